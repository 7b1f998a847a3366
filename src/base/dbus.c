/* berth — the D-Bus client; see dbus.h for the contract.  The wire format
   is the D-Bus specification's: a 16-byte fixed header, an array of
   (code, variant) header fields, padding to 8, the body; every value
   aligned to its size within the message. */
#include "base/dbus.h"
#include "cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Far above any message systemd sends (the specification allows 128 MiB). */
enum { MAX_MESSAGE = 64 << 20, AUTH_TIMEOUT_MS = 25000 };

enum { F_PATH = 1, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL, F_DESTINATION, F_SENDER,
       F_SIGNATURE };

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ORDER 'l'
#else
#define NATIVE_ORDER 'B'
#endif

/* ---- writing ---------------------------------------------------------------- */

static bool
reserve (struct dbus_writer *w, size_t n)
{
  size_t cap;
  char *p;

  if (w->r < 0)
    return false;
  if (w->len + n <= w->cap)
    return true;
  if (w->len + n > MAX_MESSAGE)
    return w->r = -E2BIG, false;
  cap = w->cap ? w->cap : 256;
  while (cap < w->len + n)
    cap *= 2;
  if ((p = realloc (w->buf, cap)) == NULL)
    return w->r = -ENOMEM, false;
  w->buf = p;
  w->cap = cap;
  return true;
}

/* n may be 0 with nothing allocated yet: no call with a NULL buffer then. */
static void
put (struct dbus_writer *w, const void *v, size_t n)
{
  if (n > 0 && reserve (w, n))
    {
      memcpy (w->buf + w->len, v, n);
      w->len += n;
    }
}

static void
pad (struct dbus_writer *w, size_t align)
{
  size_t n = (align - w->len % align) % align;

  if (n > 0 && reserve (w, n))
    {
      memset (w->buf + w->len, 0, n);
      w->len += n;
    }
}

void
dbus_put_byte (struct dbus_writer *w, uint8_t v)
{
  put (w, &v, 1);
}

void
dbus_put_u32 (struct dbus_writer *w, uint32_t v)
{
  pad (w, 4);
  put (w, &v, 4);
}

void
dbus_put_bool (struct dbus_writer *w, bool v)
{
  dbus_put_u32 (w, v ? 1 : 0);
}

void
dbus_put_u64 (struct dbus_writer *w, uint64_t v)
{
  pad (w, 8);
  put (w, &v, 8);
}

void
dbus_put_string (struct dbus_writer *w, const char *s)
{
  size_t n = strlen (s);

  if (n > UINT32_MAX)
    w->r = w->r < 0 ? w->r : -E2BIG;
  dbus_put_u32 (w, (uint32_t) n);
  put (w, s, n + 1);
}

void
dbus_put_signature (struct dbus_writer *w, const char *sig)
{
  size_t n = strlen (sig);

  if (n > 255)
    w->r = w->r < 0 ? w->r : -E2BIG;
  dbus_put_byte (w, (uint8_t) n);
  put (w, sig, n + 1);
}

void
dbus_put_variant (struct dbus_writer *w, const char *sig)
{
  dbus_put_signature (w, sig);
}

void
dbus_struct_open (struct dbus_writer *w)
{
  pad (w, 8);
}

/* The length counts the elements only: not the padding between it and the
   first element, which is there even when the array is empty. */
void
dbus_array_open (struct dbus_writer *w, size_t align)
{
  if (w->depth == (int) (sizeof w->arrays / sizeof w->arrays[0]))
    {
      w->r = w->r < 0 ? w->r : -E2BIG;
      return;
    }
  dbus_put_u32 (w, 0);
  w->arrays[w->depth] = w->len - 4;
  pad (w, align);
  w->starts[w->depth++] = w->len;
}

void
dbus_array_close (struct dbus_writer *w)
{
  uint32_t n;

  if (w->depth == 0)
    {
      w->r = w->r < 0 ? w->r : -EINVAL;
      return;
    }
  w->depth--;
  if (w->r < 0)
    return;
  n = (uint32_t) (w->len - w->starts[w->depth]);
  memcpy (w->buf + w->arrays[w->depth], &n, 4);
}

void
dbus_writer_free (struct dbus_writer *w)
{
  free (w->buf);
  memset (w, 0, sizeof *w);
}

/* ---- reading ---------------------------------------------------------------- */

static void
reader_at (struct dbus_reader *rd, const char *buf, size_t pos, size_t len)
{
  *rd = (struct dbus_reader){ .buf = buf, .pos = pos, .len = len };
}

void
dbus_reader_init (struct dbus_reader *rd, const struct dbus_msg *m)
{
  reader_at (rd, m->body, 0, m->body_len);
}

static const void *
take (struct dbus_reader *rd, size_t align, size_t n)
{
  size_t at = (rd->pos + align - 1) / align * align;

  if (rd->r < 0 || at > rd->len || n > rd->len - at)
    {
      rd->r = -EBADMSG;
      return NULL;
    }
  rd->pos = at + n;
  return rd->buf + at;
}

uint8_t
dbus_get_byte (struct dbus_reader *rd)
{
  const uint8_t *p = take (rd, 1, 1);
  return p ? *p : 0;
}

uint32_t
dbus_get_u32 (struct dbus_reader *rd)
{
  const char *p = take (rd, 4, 4);
  uint32_t v = 0;

  if (p)
    memcpy (&v, p, 4);
  return v;
}

static const char *
get_chars (struct dbus_reader *rd, size_t n)
{
  const char *s = n < SIZE_MAX ? take (rd, 1, n + 1) : NULL;

  if (s && s[n] != '\0')
    rd->r = -EBADMSG, s = NULL;
  return s;
}

const char *
dbus_get_string (struct dbus_reader *rd)
{
  uint32_t n = dbus_get_u32 (rd);
  return rd->r < 0 ? NULL : get_chars (rd, n);
}

const char *
dbus_get_signature (struct dbus_reader *rd)
{
  uint8_t n = dbus_get_byte (rd);
  return rd->r < 0 ? NULL : get_chars (rd, n);
}

/* ---- the connection --------------------------------------------------------- */

static long
left_ms (long deadline)
{
  long now;

  if (deadline < 0)
    return -1;
  now = monotonic_ms ();
  return now >= deadline ? 0 : deadline - now;
}

static int
send_all (struct dbus_conn *c, const char *buf, size_t len, struct berth_error *err)
{
  while (len > 0)
    {
      ssize_t n = send (c->fd, buf, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return berth_err_sys (err, errno, "D-Bus: send");
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Up to `size` bytes, at least one, by the deadline. */
static ssize_t
recv_some (struct dbus_conn *c, char *buf, size_t size, long deadline, struct berth_error *err)
{
  for (;;)
    {
      struct pollfd p = { .fd = c->fd, .events = POLLIN };
      int r = poll (&p, 1, (int) left_ms (deadline));
      ssize_t n;

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return berth_err_sys (err, errno, "D-Bus: poll");
      if (r == 0)
        return berth_err_sys (err, ETIMEDOUT, "D-Bus: no answer");
      n = recv (c->fd, buf, size, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        return berth_err_sys (err, errno, "D-Bus: receive");
      if (n == 0)
        return berth_err_sys (err, ECONNRESET, "D-Bus: the peer closed the connection");
      return n;
    }
}

static int
recv_exact (struct dbus_conn *c, char *buf, size_t n, long deadline, struct berth_error *err)
{
  while (n > 0)
    {
      ssize_t got = recv_some (c, buf, n, deadline, err);
      if (got < 0)
        return -1;
      buf += got;
      n -= (size_t) got;
    }
  return 0;
}

static int
bad_message (struct berth_error *err, const char *why)
{
  return berth_err_sys (err, EBADMSG, "D-Bus: a malformed message (%s)", why);
}

/* The end of the single complete type at `sig`, or NULL (also past 64
   levels of nesting, the specification's limit). */
static const char *
sig_end (const char *sig, int depth)
{
  if (depth > 64)
    return NULL;
  switch (*sig)
    {
    case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
    case 'd': case 'h': case 's': case 'o': case 'g': case 'v':
      return sig + 1;
    case 'a':
      return sig_end (sig + 1, depth + 1);
    case '(': case '{':
      {
        char close = *sig == '(' ? ')' : '}';
        for (sig++; sig && *sig && *sig != close;)
          sig = sig_end (sig, depth + 1);
        return sig && *sig == close ? sig + 1 : NULL;
      }
    default:
      return NULL;
    }
}

static size_t
sig_align (char c)
{
  switch (c)
    {
    case 'n': case 'q': return 2;
    case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a': return 4;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 1;
    }
}

/* Reads past one value of the single complete type at *sig (which moves
   past it): how a header field berth does not know is skipped, whatever
   its type, as the specification asks. */
static void
skip_value (struct dbus_reader *rd, const char **sig, int depth)
{
  static const char fixed[] = "ybnqiuxtdh";
  static const size_t size[] = { 1, 4, 2, 2, 4, 4, 8, 8, 8, 4 };
  const char *t = *sig, *end = sig_end (t, 0), *f = strchr (fixed, *t);

  if (end == NULL || depth > 64)
    {
      rd->r = -EBADMSG;
      return;
    }
  *sig = end;
  if (f)
    take (rd, size[f - fixed], size[f - fixed]);
  else if (*t == 's' || *t == 'o')
    dbus_get_string (rd);
  else if (*t == 'g')
    dbus_get_signature (rd);
  else if (*t == 'v')
    {
      const char *inner = dbus_get_signature (rd);
      if (inner && sig_end (inner, 0) && *sig_end (inner, 0) == '\0')
        skip_value (rd, &inner, depth + 1);
      else
        rd->r = -EBADMSG;
    }
  else if (*t == 'a')
    {
      uint32_t n = dbus_get_u32 (rd);
      take (rd, sig_align (t[1]), 0);
      take (rd, 1, n); /* the elements, not looked at */
    }
  else /* ( or { */
    for (take (rd, 8, 0), t++; rd->r == 0 && t < end - 1;)
      skip_value (rd, &t, depth + 1);
}

/* The header fields berth looks at; the others are skipped. */
static int
parse_fields (struct dbus_msg *m, size_t end, struct berth_error *err)
{
  struct dbus_reader rd;

  reader_at (&rd, m->buf, 16, end);
  while (rd.r == 0 && rd.pos < end)
    {
      uint8_t code;
      const char *sig, *s = NULL;
      uint32_t u = 0;

      if (take (&rd, 8, 0) == NULL)
        break;
      code = dbus_get_byte (&rd);
      sig = dbus_get_signature (&rd);
      if (sig == NULL)
        break;
      /* The specification's codes 1-9 (9: UNIX_FDS) and their types. */
      if (code == 0 || (code <= 9 && (sig[0] != "-osssussgu"[code] || sig[1] != '\0')))
        return bad_message (err, "a header field of the wrong type");
      if (code > 9)
        {
          if (sig_end (sig, 0) == NULL || *sig_end (sig, 0) != '\0')
            return bad_message (err, "a header field's signature");
          skip_value (&rd, &sig, 0);
          continue;
        }
      if (*sig == 's' || *sig == 'o')
        s = dbus_get_string (&rd);
      else if (*sig == 'g')
        s = dbus_get_signature (&rd);
      else
        u = dbus_get_u32 (&rd);
      switch (code)
        {
        case F_PATH: m->path = s; break;
        case F_INTERFACE: m->interface = s; break;
        case F_MEMBER: m->member = s; break;
        case F_ERROR_NAME: m->error_name = s; break;
        case F_REPLY_SERIAL: m->reply_serial = u; break;
        case F_SIGNATURE: m->signature = s; break;
        default: break;
        }
    }
  return rd.r < 0 ? bad_message (err, "its header fields") : 0;
}

static int
recv_msg (struct dbus_conn *c, struct dbus_msg *m, long deadline, struct berth_error *err)
{
  char fixed[16];
  uint32_t body_len, fields_len;
  size_t fields_end, body_start, total;

  memset (m, 0, sizeof *m);
  if (recv_exact (c, fixed, sizeof fixed, deadline, err) < 0)
    return -1;
  if (fixed[0] != NATIVE_ORDER || fixed[3] != 1)
    return bad_message (err, "not this host's byte order, or not protocol version 1");
  memcpy (&body_len, fixed + 4, 4);
  memcpy (&fields_len, fixed + 12, 4);
  fields_end = 16 + (size_t) fields_len;
  body_start = (fields_end + 7) / 8 * 8;
  total = body_start + body_len;
  if (fields_len > MAX_MESSAGE || body_len > MAX_MESSAGE || total > MAX_MESSAGE)
    return bad_message (err, "too large");
  if ((m->buf = malloc (total + 1)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  memcpy (m->buf, fixed, sizeof fixed);
  m->len = total;
  m->type = (uint8_t) fixed[1];
  m->body = m->buf + body_start;
  m->body_len = body_len;
  if (recv_exact (c, m->buf + 16, total - 16, deadline, err) < 0
      || parse_fields (m, fields_end, err) < 0)
    {
      free (m->buf);
      memset (m, 0, sizeof *m);
      return -1;
    }
  berth_debug ("D-Bus: received type %u (reply to %u): %s %s", m->type, m->reply_serial,
               m->interface ? m->interface : "",
               m->member ? m->member : m->error_name ? m->error_name : "");
  return 0;
}

static void
field (struct dbus_writer *h, uint8_t code, const char *type, const char *v)
{
  dbus_struct_open (h);
  dbus_put_byte (h, code);
  dbus_put_variant (h, type);
  if (type[0] == 'g')
    dbus_put_signature (h, v);
  else
    dbus_put_string (h, v);
}

static int
send_call (struct dbus_conn *c, const char *dest, const char *path, const char *interface,
           const char *member, const char *sig, const struct dbus_writer *body,
           struct berth_error *err)
{
  struct dbus_writer h = { 0 };
  size_t body_len = body ? body->len : 0;
  int r;

  if (body && body->r < 0)
    return berth_err_sys (err, -body->r, "D-Bus: %s: the arguments", member);
  if (++c->serial == 0)
    c->serial = 1;
  dbus_put_byte (&h, NATIVE_ORDER);
  dbus_put_byte (&h, 1); /* a method call */
  dbus_put_byte (&h, 0);
  dbus_put_byte (&h, 1);
  dbus_put_u32 (&h, (uint32_t) body_len);
  dbus_put_u32 (&h, c->serial);
  dbus_array_open (&h, 8);
  field (&h, F_PATH, "o", path);
  if (interface)
    field (&h, F_INTERFACE, "s", interface);
  field (&h, F_MEMBER, "s", member);
  if (dest)
    field (&h, F_DESTINATION, "s", dest);
  if (sig && *sig)
    field (&h, F_SIGNATURE, "g", sig);
  dbus_array_close (&h);
  pad (&h, 8);
  if (body_len)
    put (&h, body->buf, body_len);
  berth_debug ("D-Bus: call %s.%s (serial %u, %zu bytes)", interface ? interface : "", member,
               c->serial, h.len);
  if (h.r < 0)
    r = berth_err_sys (err, -h.r, "D-Bus: %s", member);
  else
    r = send_all (c, h.buf, h.len, err);
  dbus_writer_free (&h);
  return r;
}

static void
hand_over_signal (struct dbus_conn *c, struct dbus_msg *m)
{
  if (m->type == 4 && c->on_signal)
    c->on_signal (c->data, m);
  free (m->buf);
  memset (m, 0, sizeof *m);
}

int
dbus_call (struct dbus_conn *c, const char *dest, const char *path, const char *interface,
           const char *member, const char *sig, const struct dbus_writer *body, int timeout_ms,
           struct dbus_reply *reply, struct berth_error *err)
{
  long deadline = timeout_ms < 0 ? -1 : monotonic_ms () + timeout_ms;
  struct dbus_reply dropped = { 0 };
  struct dbus_msg m;
  struct dbus_reader rd;
  int r;

  if (reply == NULL)
    reply = &dropped;
  memset (reply, 0, sizeof *reply);
  if (send_call (c, dest, path, interface, member, sig, body, err) < 0)
    return -1;
  for (;;)
    {
      if (recv_msg (c, &m, deadline, err) < 0)
        return -1;
      if ((m.type == 2 || m.type == 3) && m.reply_serial == c->serial)
        break;
      hand_over_signal (c, &m);
    }
  reply->m = m;
  if (m.type == 3)
    {
      if (m.signature && m.signature[0] == 's')
        {
          dbus_reader_init (&rd, &m);
          reply->error_message = dbus_get_string (&rd);
        }
      berth_err (err, BERTH_E_SYSTEM, "D-Bus: %s: %s%s%s", member,
                 m.error_name ? m.error_name : "an error", reply->error_message ? ": " : "",
                 reply->error_message ? reply->error_message : "");
    }
  r = m.type == 3 ? -1 : 0;
  if (reply == &dropped)
    dbus_reply_free (reply);
  return r;
}

int
dbus_wait (struct dbus_conn *c, bool (*done) (void *data), void *data, int timeout_ms,
           struct berth_error *err)
{
  long deadline = timeout_ms < 0 ? -1 : monotonic_ms () + timeout_ms;
  struct dbus_msg m;

  while (!done (data))
    {
      if (recv_msg (c, &m, deadline, err) < 0)
        return -1;
      hand_over_signal (c, &m);
    }
  return 0;
}

void
dbus_reply_free (struct dbus_reply *r)
{
  free (r->m.buf);
  memset (r, 0, sizeof *r);
}

/* ---- connecting ------------------------------------------------------------- */

/* An address value with its %XX escapes undone; false when too long. */
static bool
unescape (const char *v, size_t n, char *out, size_t size)
{
  size_t o = 0;

  for (size_t i = 0; i < n; i++)
    {
      char c = v[i];
      if (c == '%')
        {
          char hex[3];
          if (n - i < 3 || !isxdigit ((unsigned char) v[i + 1])
              || !isxdigit ((unsigned char) v[i + 2]))
            return false;
          hex[0] = v[i + 1], hex[1] = v[i + 2], hex[2] = '\0';
          c = (char) strtol (hex, NULL, 16);
          i += 2;
        }
      if (o + 1 >= size)
        return false;
      out[o++] = c;
    }
  out[o] = '\0';
  return true;
}

/* One "unix:key=value,..." entry (path= or abstract=): a connected socket,
   or -1 with errno. */
static int
connect_entry (const char *entry, size_t len)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  socklen_t sa_len = 0;
  const char *p = entry + 5, *end = entry + len;
  int fd;

  if (len < 5 || strncmp (entry, "unix:", 5) != 0)
    return errno = EAFNOSUPPORT, -1;
  while (p < end)
    {
      const char *comma = memchr (p, ',', (size_t) (end - p));
      size_t n = (size_t) ((comma ? comma : end) - p);
      bool path = n > 5 && strncmp (p, "path=", 5) == 0;
      bool abstract = n > 9 && strncmp (p, "abstract=", 9) == 0;

      if (path || abstract)
        {
          /* An abstract name starts with a NUL and has none at its end. */
          char *dst = sa.sun_path + abstract;
          size_t key = path ? 5 : 9;
          if (!unescape (p + key, n - key, dst, sizeof sa.sun_path - abstract))
            return errno = ENAMETOOLONG, -1;
          sa_len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + abstract + strlen (dst)
                                + path);
        }
      p += n + 1;
    }
  if (sa_len == 0)
    return errno = EINVAL, -1;
  if ((fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &sa, sa_len) < 0)
    {
      int e = errno;
      close (fd);
      return errno = e, -1;
    }
  return fd;
}

/* EXTERNAL with an empty response (DATA): the peer takes the socket's
   credentials.  Everything is said at once, as sd-bus says it, since the
   answers cannot depend on anything but the lines before them: DATA (the
   server asks for the response; systemd's and dbus-daemon's do), OK, and
   AGREE_UNIX_FD or ERROR.  berth never passes fds, but systemd's private
   socket has been seen to leave a call unanswered on a connection that did
   not ask (tests/vm: StopUnit of a scope whose processes had just been
   killed); sd-bus, which always asks, never meets that. */
static int
authenticate (struct dbus_conn *c, struct berth_error *err)
{
  static const char hello[] = "\0AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
  long deadline = monotonic_ms () + AUTH_TIMEOUT_MS;
  char buf[512];
  size_t len = 0;
  bool ok = false;

  if (send_all (c, hello, sizeof hello - 1, err) < 0)
    return -1;
  for (;;)
    {
      char *eol;
      ssize_t n;

      while ((eol = memmem (buf, len, "\r\n", 2)) != NULL)
        {
          size_t line = (size_t) (eol - buf);
          *eol = '\0';
          if (!ok && strncmp (buf, "OK ", 3) == 0)
            ok = true;
          else if (ok && (strcmp (buf, "AGREE_UNIX_FD") == 0 || strncmp (buf, "ERROR", 5) == 0))
            {
              /* The peer's last word before messages: nothing may follow. */
              if (len != line + 2)
                return bad_message (err, "bytes after the authentication");
              return 0;
            }
          else if (ok || strncmp (buf, "DATA", 4) != 0)
            return berth_err (err, BERTH_E_SYSTEM, "D-Bus: authentication refused: %s", buf);
          memmove (buf, eol + 2, len - line - 2);
          len -= line + 2;
        }
      if (len == sizeof buf)
        return bad_message (err, "an authentication line too long");
      if ((n = recv_some (c, buf + len, sizeof buf - len, deadline, err)) < 0)
        return -1;
      len += (size_t) n;
    }
}

int
dbus_connect (struct dbus_conn *c, const char *address, bool hello, struct berth_error *err)
{
  const char *p = address;
  int e = EINVAL;

  memset (c, 0, sizeof *c);
  c->fd = -1;
  while (c->fd < 0 && *p)
    {
      size_t n = strcspn (p, ";");
      if ((c->fd = connect_entry (p, n)) < 0)
        e = errno;
      p += n + (p[n] == ';');
    }
  if (c->fd < 0)
    return berth_err_sys (err, e, "D-Bus: connect to %s", address);
  if (authenticate (c, err) < 0
      || (hello
          && dbus_call (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                        "org.freedesktop.DBus", "Hello", NULL, NULL, AUTH_TIMEOUT_MS, NULL, err)
                 < 0))
    {
      dbus_close (c);
      return -1;
    }
  return 0;
}

void
dbus_close (struct dbus_conn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
}

pid_t
dbus_peer_pid (const struct dbus_conn *c)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (getsockopt (c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return 0;
  return cred.pid;
}
