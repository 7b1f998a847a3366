#include "lifecycle/defaults.h"
#include "cleanup.h"
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The template is JSON text rather than code building structs: it reads like
   the file the user gets.  %s slots: the /sys mount, the devpts gid option,
   the linux section's rootless-specific parts. */
static const char template[] =
  "{\"ociVersion\": \"" OCI_SPEC_VERSION "\","
  " \"process\": {"
  "  \"terminal\": true,"
  "  \"user\": {\"uid\": 0, \"gid\": 0},"
  "  \"args\": [\"sh\"],"
  "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
  "           \"TERM=xterm\"],"
  "  \"cwd\": \"/\","
  "  \"capabilities\": {"
  "   \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
  "   \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
  "   \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
  "   \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]},"
  "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
  "  \"noNewPrivileges\": true},"
  " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
  " \"hostname\": \"berth\","
  " \"mounts\": ["
  "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
  "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
  "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
  "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
  "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},"
  "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
  "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
  "  %s,"
  "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
  "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}],"
  " \"linux\": {"
  "  %s"
  "  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
  "   \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\","
  "   \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],"
  "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\","
  "   \"/proc/sysrq-trigger\"]}}";

static const char sysfs_mount[] =
  "{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
  " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}";
static const char sysfs_bind[] =
  "{\"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\","
  " \"options\": [\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"]}";
static const char linux_root[] =
  "\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
  "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
  " {\"type\": \"uts\"}, {\"type\": \"mount\"}],";
static const char linux_rootless[] =
  "\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],"
  "\"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],"
  "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
  " {\"type\": \"mount\"}, {\"type\": \"user\"}],";

int
berth_default_spec (bool rootless, uid_t uid, gid_t gid, char **json, struct berth_error *err)
{
  char linux_part[512];
  cleanup_free char *text = NULL;
  cleanup_config struct oci_config *c = NULL;

  if (rootless)
    snprintf (linux_part, sizeof linux_part, linux_rootless, (unsigned) uid, (unsigned) gid);
  else
    snprintf (linux_part, sizeof linux_part, "%s", linux_root);
  if (asprintf (&text, template, rootless ? "" : ", \"gid=5\"",
                rootless ? sysfs_bind : sysfs_mount, linux_part)
      < 0)
    return berth_err_sys (err, ENOMEM, "out of memory");
  if (oci_config_parse_data (text, strlen (text), &c, err) < 0)
    {
      berth_err_prefix (err, "internal error in the default spec: ");
      return -1;
    }
  return oci_emit (&oci_type_config, c, "\t", json, NULL, err);
}
