/* linux.netDevices over rtnetlink: see netdev.h. */
#include "init/netdev.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BASE ".linux.netDevices"

static void
at_device (struct berth_error *err, const char *host_name)
{
  oci_path_key (err->path, sizeof err->path, BASE, host_name);
}

static const char *
new_name (const struct oci_linux *l, size_t i)
{
  const char *n = l->net_devices[i].name;
  return n && n[0] ? n : l->net_devices_keys[i];
}

int
netdev_check (const struct oci_config *c, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;
  bool netns = false;

  if (l == NULL || l->net_devices_len == 0)
    return 0;
  for (size_t i = 0; i < l->namespaces_len; i++)
    netns |= strcmp (l->namespaces[i].type, "network") == 0;
  if (!netns)
    return berth_err_at (err, BERTH_E_VALUE, BASE,
                         "moving devices needs a network namespace of the container's own "
                         "(add {\"type\": \"network\"})");
  for (size_t i = 0; i < l->net_devices_len; i++)
    {
      const char *host = l->net_devices_keys[i], *name = new_name (l, i);
      size_t len = strlen (name);
      if (if_nametoindex (host) == 0)
        {
          berth_err (err, BERTH_E_VALUE, "no network interface %s on the host", host);
          at_device (err, host);
          return -1;
        }
      if (len == 0 || len >= IFNAMSIZ || strpbrk (name, "/: \t\n") || strcmp (name, ".") == 0
          || strcmp (name, "..") == 0)
        {
          berth_err (err, BERTH_E_VALUE, "\"%s\" is not a network interface name (1 to %d "
                     "characters, no '/', ':' or space)", name, IFNAMSIZ - 1);
          at_device (err, host);
          snprintf (err->path + strlen (err->path), sizeof err->path - strlen (err->path),
                    ".name");
          return -1;
        }
    }
  return 0;
}

/* ---- rtnetlink ---------------------------------------------------------- */

struct req {
  struct nlmsghdr h;
  union {
    struct ifinfomsg ifi;
    struct ifaddrmsg ifa;
  };
  char attrs[512];
};

static void
add_attr (struct req *r, unsigned short type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *) ((char *) r + NLMSG_ALIGN (r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short) RTA_LENGTH (len);
  memcpy (RTA_DATA (a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN (r->h.nlmsg_len) + RTA_ALIGN (a->rta_len);
}

static int
nl_open (struct berth_error *err)
{
  int s = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0)
    berth_err_sys (err, errno, "open a netlink socket");
  return s;
}

/* Send `r` (with an acknowledgement asked for) and hand each reply to
   `each` (may be NULL) until the acknowledgement or the end of a dump; a
   refusal comes back as -1 with the kernel's errno. */
static int
nl_talk (int s, struct req *r, int (*each) (const struct nlmsghdr *, void *), void *data)
{
  char buf[16384];

  r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send (s, r, r->h.nlmsg_len, 0) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = recv (s, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) n);
           h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_type == NLMSG_ERROR)
            {
              int e = -((struct nlmsgerr *) NLMSG_DATA (h))->error;
              return e ? (errno = e, -1) : 0;
            }
          if (h->nlmsg_type == NLMSG_DONE)
            return 0;
          if (each && each (h, data) < 0)
            return -1;
        }
    }
}

static int
link_index (const struct nlmsghdr *h, void *data)
{
  if (h->nlmsg_type == RTM_NEWLINK)
    *(int *) data = ((const struct ifinfomsg *) NLMSG_DATA (h))->ifi_index;
  return 0;
}

/* RTM_GETLINK by name (or by *index when name is NULL): the interface's
   index, or -1 with errno ENODEV when there is none. */
static int
get_link (int s, const char *name, int *index)
{
  struct req q = { .h = { .nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg)),
                          .nlmsg_type = RTM_GETLINK },
                   .ifi = { .ifi_family = AF_UNSPEC, .ifi_index = name ? 0 : *index } };

  if (name)
    add_attr (&q, IFLA_IFNAME, name, strlen (name) + 1);
  return nl_talk (s, &q, link_index, index);
}

/* The addresses of `index` worth keeping: permanent, of global scope
   (config-linux.md), as the kernel sent them (RTM_NEWADDR messages). */
struct addrs {
  char *buf;
  size_t len;
};

static bool
keep_addr (const struct nlmsghdr *h, int index)
{
  const struct ifaddrmsg *a = NLMSG_DATA (h);
  unsigned int left = IFA_PAYLOAD (h);
  uint32_t flags = a->ifa_flags;

  if (h->nlmsg_type != RTM_NEWADDR || (int) a->ifa_index != index
      || a->ifa_scope != RT_SCOPE_UNIVERSE)
    return false;
  /* IFA_FLAGS, when there, has all 32 bits. */
  for (const struct rtattr *t = IFA_RTA (a); RTA_OK (t, left); t = RTA_NEXT (t, left))
    if (t->rta_type == IFA_FLAGS && RTA_PAYLOAD (t) >= sizeof flags)
      memcpy (&flags, RTA_DATA (t), sizeof flags);
  return (flags & IFA_F_PERMANENT) != 0;
}

struct addr_dump {
  int index;
  struct addrs *out;
};

static int
save_addr (const struct nlmsghdr *h, void *data)
{
  struct addr_dump *d = data;
  char *grown;

  if (!keep_addr (h, d->index))
    return 0;
  if ((grown = realloc (d->out->buf, d->out->len + NLMSG_ALIGN (h->nlmsg_len))) == NULL)
    return -1;
  d->out->buf = grown;
  memcpy (d->out->buf + d->out->len, h, h->nlmsg_len);
  d->out->len += NLMSG_ALIGN (h->nlmsg_len);
  return 0;
}

static int
dump_addrs (int s, int index, struct addrs *out, struct berth_error *err)
{
  struct req r = { .h = { .nlmsg_len = NLMSG_LENGTH (sizeof (struct ifaddrmsg)),
                          .nlmsg_type = RTM_GETADDR, .nlmsg_flags = NLM_F_DUMP } };

  if (nl_talk (s, &r, save_addr, &(struct addr_dump){ index, out }) < 0)
    return berth_err_sys (err, errno, "list the addresses");
  return 0;
}

/* Each saved address again, on `index` in the socket's namespace: the
   kernel's own message with the index changed, keeping the attributes that
   make the address (not its label, which named the old interface, nor its
   cache info). */
static int
add_addrs (int s, int index, const struct addrs *a, struct berth_error *err)
{
  for (size_t off = 0; off < a->len;)
    {
      const struct nlmsghdr *h = (const struct nlmsghdr *) (a->buf + off);
      const struct ifaddrmsg *m = NLMSG_DATA (h);
      struct req r = { .h = { .nlmsg_len = NLMSG_LENGTH (sizeof (struct ifaddrmsg)),
                              .nlmsg_type = RTM_NEWADDR,
                              .nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE } };
      unsigned int left = IFA_PAYLOAD (h);

      r.ifa = *m;
      r.ifa.ifa_index = (unsigned) index;
      for (const struct rtattr *t = IFA_RTA (m); RTA_OK (t, left); t = RTA_NEXT (t, left))
        if ((t->rta_type == IFA_LOCAL || t->rta_type == IFA_ADDRESS
             || t->rta_type == IFA_BROADCAST || t->rta_type == IFA_FLAGS)
            && NLMSG_ALIGN (r.h.nlmsg_len) + RTA_SPACE (RTA_PAYLOAD (t)) <= sizeof r)
          add_attr (&r, t->rta_type, RTA_DATA (t), RTA_PAYLOAD (t));
      if (nl_talk (s, &r, NULL, NULL) < 0)
        return berth_err_sys (err, errno, "add an address back");
      off += NLMSG_ALIGN (h->nlmsg_len);
    }
  return 0;
}

/* RTM_NEWLINK on an existing interface: into `netns` (>= 0) under `name`,
   or up. */
static int
link_set (int s, int index, int netns, const char *name, bool up)
{
  struct req r = { .h = { .nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg)),
                          .nlmsg_type = RTM_NEWLINK },
                   .ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index } };
  if (netns >= 0)
    add_attr (&r, IFLA_NET_NS_FD, &(uint32_t){ (uint32_t) netns }, sizeof (uint32_t));
  if (name)
    add_attr (&r, IFLA_IFNAME, name, strlen (name) + 1);
  if (up)
    r.ifi.ifi_flags = r.ifi.ifi_change = IFF_UP;
  return nl_talk (s, &r, NULL, NULL);
}

/* A netlink socket in the namespace `netns`: made there, used from here. */
static int
nl_open_in (int netns, struct berth_error *err)
{
  cleanup_close int self = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int s;

  if (self < 0)
    return berth_err_sys (err, errno, "open this process' network namespace");
  if (setns (netns, CLONE_NEWNET) < 0)
    return berth_err_sys (err, errno, "enter the container's network namespace");
  s = nl_open (err);
  if (setns (self, CLONE_NEWNET) < 0)
    {
      /* Never go on in the container's namespace. */
      berth_err_sys (err, errno, "return to the runtime's network namespace");
      if (s >= 0)
        close (s);
      return -1;
    }
  return s;
}

static int
move_one (int host, int inside, int netns, const char *host_name, const char *name,
          struct berth_error *err)
{
  struct addrs saved = { NULL, 0 };
  cleanup_free char *owned = NULL;
  bool template = strstr (name, "%d") != NULL;
  int index = (int) if_nametoindex (host_name), inner;

  if (index == 0)
    return berth_err (err, BERTH_E_VALUE, "no network interface %s on the host", host_name);
  /* The spec's check before the move: the name must be free inside,
     unless the kernel is to complete a template. */
  if (!template)
    {
      if (get_link (inside, name, &inner) == 0)
        return berth_err (err, BERTH_E_VALUE,
                          "the container's network namespace already has an interface %s",
                          name);
      if (errno != ENODEV)
        return berth_err_sys (err, errno, "look for %s in the container", name);
    }
  if (dump_addrs (host, index, &saved, err) < 0)
    return free (saved.buf), -1;
  owned = saved.buf;
  if (link_set (host, index, netns, name, false) < 0)
    return berth_err_sys (err, errno, "move %s into the container as %s", host_name, name);
  /* From here the device is the container's.  A template's name is known
     to the kernel only: the index finds it (kept when free, as it is in a
     new namespace). */
  inner = index;
  if ((template ? get_link (inside, NULL, &inner) : get_link (inside, name, &inner)) < 0)
    return berth_err_sys (err, errno, "find %s in the container after the move", name);
  if (add_addrs (inside, inner, &saved, err) < 0)
    return -1;
  if (link_set (inside, inner, -1, NULL, true) < 0)
    return berth_err_sys (err, errno, "set %s up in the container", name);
  return 0;
}

int
netdev_move_all (const struct oci_linux *l, int netns, struct berth_error *err)
{
  cleanup_close int host = -1, inside = -1;

  if (l == NULL || l->net_devices_len == 0)
    return 0;
  if ((host = nl_open (err)) < 0 || (inside = nl_open_in (netns, err)) < 0)
    return -1;
  for (size_t i = 0; i < l->net_devices_len; i++)
    if (move_one (host, inside, netns, l->net_devices_keys[i], new_name (l, i), err) < 0)
      {
        at_device (err, l->net_devices_keys[i]);
        return -1;
      }
  return 0;
}
