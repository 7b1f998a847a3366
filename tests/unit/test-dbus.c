/* Unit test of berth's D-Bus client (base/dbus.h) against the reference
 * bus, a private dbus-daemon: authentication and Hello, a reply, an error
 * reply with its name and message, a signal delivered through a match
 * while berth waits, and the bodies of the systemd driver's calls, which
 * the daemon validates against their signature (it drops a client that
 * sends a malformed one) and dbus-monitor decodes for comparison.
 * Before the bus, header fields of unknown codes and types in a reply
 * from a peer on a socketpair.  The rest is skipped when dbus-daemon is
 * not installed.
 */
#include "base/dbus.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUS "org.freedesktop.DBus"
#define BUS_PATH "/org/freedesktop/DBus"

static pid_t
spawn (char *const argv[], int *out)
{
  int p[2];
  pid_t pid;

  if (pipe (p) < 0 || (pid = fork ()) < 0)
    return -1;
  if (pid == 0)
    {
      dup2 (p[1], 1);
      close (p[0]);
      execvp (argv[0], argv);
      _exit (127);
    }
  close (p[1]);
  *out = p[0];
  return pid;
}

/* Everything a child printed, up to `size`, until it closes, `want`
   appears or it has said nothing for 5 s. */
static size_t
read_until (int fd, char *buf, size_t size, const char *want)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  size_t len = 0;
  ssize_t n;

  while (len + 1 < size && poll (&p, 1, 5000) == 1
         && (n = read (fd, buf + len, size - len - 1)) > 0)
    {
      len += (size_t) n;
      buf[len] = '\0';
      if (want && strstr (buf, want))
        break;
    }
  buf[len] = '\0';
  return len;
}

struct seen {
  int name_owner_changed;
};

static void
on_signal (void *data, const struct dbus_msg *m)
{
  struct seen *s = data;
  if (m->member && strcmp (m->member, "NameOwnerChanged") == 0)
    s->name_owner_changed++;
}

static bool
saw_owner_change (void *data)
{
  return ((struct seen *) data)->name_owner_changed > 0;
}

/* A StartTransientUnit body as the systemd driver writes it. */
static void
transient_unit_body (struct dbus_writer *w)
{
  static const uint8_t mask[] = { 0x0f, 0x01 };

  dbus_put_string (w, "berth-x.scope");
  dbus_put_string (w, "replace");
  dbus_array_open (w, 8);
  dbus_struct_open (w);
  dbus_put_string (w, "Description");
  dbus_put_variant (w, "s");
  dbus_put_string (w, "berth container x");
  dbus_struct_open (w);
  dbus_put_string (w, "PIDs");
  dbus_put_variant (w, "au");
  dbus_array_open (w, 4);
  dbus_put_u32 (w, 4242);
  dbus_array_close (w);
  dbus_struct_open (w);
  dbus_put_string (w, "Delegate");
  dbus_put_variant (w, "b");
  dbus_put_bool (w, true);
  dbus_struct_open (w);
  dbus_put_string (w, "MemoryMax");
  dbus_put_variant (w, "t");
  dbus_put_u64 (w, 1ull << 40);
  dbus_struct_open (w);
  dbus_put_string (w, "AllowedCPUs");
  dbus_put_variant (w, "ay");
  dbus_array_open (w, 1);
  for (size_t i = 0; i < sizeof mask; i++)
    dbus_put_byte (w, mask[i]);
  dbus_array_close (w);
  dbus_array_close (w);
  dbus_array_open (w, 8);
  dbus_array_close (w);
}

/* A method return to serial 1 with the header fields berth reads and, if
   `unknown`, two it does not know, of types it never reads (a dictionary,
   a variant holding an array), which a reader must skip; else a known
   field (REPLY_SERIAL) of the wrong type.  Returned in w. */
static void
reply_with_fields (struct dbus_writer *w, bool unknown)
{
  dbus_put_byte (w, 'l');
  dbus_put_byte (w, 2);
  dbus_put_byte (w, 0);
  dbus_put_byte (w, 1);
  dbus_put_u32 (w, 0);  /* no body */
  dbus_put_u32 (w, 77); /* its own serial */
  dbus_array_open (w, 8);
  if (unknown)
    {
      dbus_struct_open (w);
      dbus_put_byte (w, 42);
      dbus_put_variant (w, "a{sv}");
      dbus_array_open (w, 8);
      dbus_struct_open (w);
      dbus_put_string (w, "key");
      dbus_put_variant (w, "t");
      dbus_put_u64 (w, 7);
      dbus_array_close (w);
      dbus_struct_open (w);
      dbus_put_byte (w, 43);
      dbus_put_variant (w, "v");
      dbus_put_signature (w, "as");
      dbus_array_open (w, 4);
      dbus_put_string (w, "a");
      dbus_put_string (w, "b");
      dbus_array_close (w);
    }
  dbus_struct_open (w);
  dbus_put_byte (w, 5); /* REPLY_SERIAL */
  dbus_put_variant (w, unknown ? "u" : "s");
  if (unknown)
    dbus_put_u32 (w, 1);
  else
    dbus_put_string (w, "1");
  dbus_array_close (w);
  while (w->len % 8)
    dbus_put_byte (w, 0);
}

/* The reply of reply_with_fields, read by dbus_call on a socketpair. */
static int
call_answered_by (bool unknown, struct berth_error *err)
{
  struct dbus_writer w = { 0 };
  struct dbus_reply rep = { 0 };
  struct dbus_conn c = { .fd = -1 };
  int sv[2], r = -1;

  reply_with_fields (&w, unknown);
  if (w.r == 0 && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
    {
      c.fd = sv[0];
      if (write (sv[1], w.buf, w.len) == (ssize_t) w.len)
        r = dbus_call (&c, "org.example", "/", "org.example", "Ping", NULL, NULL, 2000, &rep, err);
      close (sv[0]);
      close (sv[1]);
    }
  dbus_reply_free (&rep);
  dbus_writer_free (&w);
  return r;
}

int
main (void)
{
  char dir[] = "/tmp/berth-dbus-XXXXXX", conf[128], addr[256], out[16384];
  char *daemon_argv[] = { "dbus-daemon", "--session", "--nofork", "--print-address=1", NULL, NULL };
  struct dbus_conn c, other;
  struct dbus_reply rep = { 0 };
  struct dbus_reader rd;
  struct dbus_writer w = { 0 };
  struct berth_error err = { 0 };
  struct seen seen = { 0 };
  const char *id;
  pid_t daemon, monitor;
  int fd, mon_fd, status;
  FILE *f;

  setvbuf (stdout, NULL, _IONBF, 0);
  /* No bus needed: a peer on a socketpair that answers at once. */
  tap_ok (call_answered_by (true, &err) == 0,
          "header fields of unknown codes and types are skipped: %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (call_answered_by (false, &err) < 0 && strstr (err.msg, "wrong type"),
          "a known header field of the wrong type is refused: %s", err.msg);
  err = (struct berth_error){ 0 };
  if (access ("/usr/bin/dbus-daemon", X_OK) < 0)
    {
      printf ("# SKIP the rest: dbus-daemon is not installed\n");
      return tap_done ();
    }
  if (mkdtemp (dir) == NULL)
    return 1;
  /* A session bus of its own, on a socket in dir. */
  snprintf (conf, sizeof conf, "%s/bus.conf", dir);
  f = fopen (conf, "w");
  fprintf (f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
              "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
              "<busconfig><type>session</type><listen>unix:path=%s/bus</listen>"
              "<auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" "
              "eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>"
              "</busconfig>\n",
              dir);
  fclose (f);
  static char conf_arg[160];
  snprintf (conf_arg, sizeof conf_arg, "--config-file=%s", conf);
  daemon_argv[1] = conf_arg;
  daemon = spawn (daemon_argv, &fd);
  read_until (fd, addr, sizeof addr, "\n");
  addr[strcspn (addr, "\n")] = '\0';
  if (!tap_ok (daemon > 0 && strncmp (addr, "unix:", 5) == 0, "dbus-daemon listens at %s", addr))
    return tap_done ();

  tap_ok (dbus_connect (&c, addr, true, &err) == 0, "connect, EXTERNAL, Hello: %s", err.msg);
  tap_ok (dbus_peer_pid (&c) == daemon, "the peer is the daemon (pid %d)", (int) dbus_peer_pid (&c));

  tap_ok (dbus_call (&c, BUS, BUS_PATH, BUS, "GetId", NULL, NULL, 5000, &rep, &err) == 0
              && rep.m.signature && strcmp (rep.m.signature, "s") == 0,
          "GetId: a reply of signature s: %s", err.msg);
  dbus_reader_init (&rd, &rep.m);
  id = dbus_get_string (&rd);
  tap_ok (id && strlen (id) == 32 && strspn (id, "0123456789abcdef") == 32 && rd.r == 0,
          "its string is the bus id: %s", id ? id : "(none)");
  dbus_reply_free (&rep);

  dbus_put_string (&w, "org.example.nobody");
  tap_ok (dbus_call (&c, BUS, BUS_PATH, BUS, "GetNameOwner", "s", &w, 5000, &rep, &err) < 0
              && rep.m.error_name
              && strcmp (rep.m.error_name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0
              && rep.error_message && strstr (err.msg, rep.error_message),
          "an error reply: its name, message, and err: %s", err.msg);
  dbus_reply_free (&rep);
  dbus_writer_free (&w);
  err = (struct berth_error){ 0 };

  /* A signal the bus sends while berth waits: another client's arrival. */
  c.on_signal = on_signal;
  c.data = &seen;
  dbus_put_string (&w, "type='signal',interface='org.freedesktop.DBus',member='NameOwnerChanged'");
  tap_ok (dbus_call (&c, BUS, BUS_PATH, BUS, "AddMatch", "s", &w, 5000, NULL, &err) == 0,
          "AddMatch: %s", err.msg);
  dbus_writer_free (&w);
  tap_ok (dbus_connect (&other, addr, true, &err) == 0
              && dbus_wait (&c, saw_owner_change, &seen, 5000, &err) == 0,
          "a signal comes to on_signal while waiting: %s", err.msg);
  dbus_close (&other);

  /* The systemd driver's StartTransientUnit body, sent to the bus itself:
     the daemon checks it against the signature and, as it has no such
     method, answers with an error; a malformed body would have cost the
     connection instead.  dbus-monitor shows how the daemon decoded it. */
  {
    char *mon_argv[] = { "dbus-monitor", "--address", addr, "--monitor",
                         "member='StartTransientUnit'", NULL };
    monitor = spawn (mon_argv, &mon_fd);
    read_until (mon_fd, out, sizeof out, "NameLost"); /* up once it has left the bus' name list */
  }
  transient_unit_body (&w);
  tap_ok (dbus_call (&c, BUS, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                     "StartTransientUnit", "ssa(sv)a(sa(sv))", &w, 5000, &rep, &err) < 0
              && rep.m.error_name
              && strncmp (rep.m.error_name, "org.freedesktop.DBus.Error.Unknown", 34) == 0,
          "StartTransientUnit's body is well-formed (the daemon answers that it has no such "
          "method): %s",
          err.msg);
  dbus_reply_free (&rep);
  tap_ok (dbus_call (&c, BUS, BUS_PATH, BUS, "GetId", NULL, NULL, 5000, NULL, &err) == 0,
          "and the connection is still up: %s", err.msg);
  dbus_writer_free (&w);
  read_until (mon_fd, out, sizeof out, "array [\n   ]");
  kill (monitor, SIGTERM);
  waitpid (monitor, &status, 0);
  tap_ok (strstr (out, "string \"berth-x.scope\"\n   string \"replace\"\n   array [\n")
              && strstr (out, "string \"Description\"\n         variant             string "
                              "\"berth container x\"")
              && strstr (out, "string \"PIDs\"\n         variant             array [\n"
                              "               uint32 4242\n            ]")
              && strstr (out, "variant             boolean true")
              && strstr (out, "variant             uint64 1099511627776")
              && strstr (out, "array of bytes [\n               0f 01\n            ]"),
          "dbus-monitor decodes every value as written");
  if (tap_n && tap_failed)
    tap_diag ("dbus-monitor:\n%s", out);

  dbus_close (&c);
  kill (daemon, SIGTERM);
  waitpid (daemon, &status, 0);
  snprintf (out, sizeof out, "rm -rf %s", dir);
  if (system (out) != 0)
    tap_diag ("could not remove %s", dir);
  return tap_done ();
}
