/* The benchmark's floor: a bare libssh2 client that shares no code with dasprov.
 *
 *   floor HOSTS_FILE      HOSTS_FILE: one "addr port user private_key known_hosts" per line
 *
 * For every host at once, one thread each: connect (TCP_NODELAY), handshake, check the host key
 * against known_hosts, authenticate with the private key, run `true` on a channel, read to EOF,
 * get the exit status, close. Every receive re-arms TCP_QUICKACK: sshd does not set TCP_NODELAY
 * on a non-interactive session, so its small replies wait for the client's ACK, which Linux
 * delays by up to 40 ms (measured here: ≈ 40 ms per host without it); dasprov does the same. Prints "floor: N hosts, F failed, wall=S" (seconds, from before
 * the first thread starts until the last one ends) and exits 1 if any host failed.
 * Built by bench/run.sh: gcc -O2 floor.c $(pkg-config --cflags --libs libssh2) -pthread */
#include <arpa/inet.h>
#include <errno.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct host {
  char addr[64], user[64], key[512], known[512];
  int port, ok;
  char error[256];
  pthread_t thread;
};

static int fail(struct host *h, LIBSSH2_SESSION *s, const char *step) {
  char *msg = NULL;
  if (s) libssh2_session_last_error(s, &msg, NULL, 0);
  snprintf(h->error, sizeof h->error, "%s%s%s", step, msg ? ": " : "", msg ? msg : "");
  return -1;
}

static int knownhost_type(int hostkey_type) {
  switch (hostkey_type) {
  case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
  case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
  case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
  default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

static ssize_t recv_quickack(libssh2_socket_t fd, void *buf, size_t len, int flags, void **abstract) {
  (void)abstract;
  int one = 1;
  ssize_t n = recv(fd, buf, len, flags);
  if (n < 0) return -errno;
  setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  return n;
}

static int session(struct host *h, int fd, LIBSSH2_SESSION *s) {
  libssh2_session_callback_set(s, LIBSSH2_CALLBACK_RECV, (void *)recv_quickack);
  if (libssh2_session_handshake(s, fd)) return fail(h, s, "handshake");
  size_t len;
  int type;
  const char *key = libssh2_session_hostkey(s, &len, &type);
  LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
  if (!key || !kh) return fail(h, s, "host key");
  int rc = libssh2_knownhost_readfile(kh, h->known, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0
               ? -2
               : libssh2_knownhost_checkp(kh, h->addr, h->port, key, len,
                                          LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
                                              knownhost_type(type),
                                          NULL);
  libssh2_knownhost_free(kh);
  if (rc == -2) return fail(h, s, "reading known_hosts");
  if (rc != LIBSSH2_KNOWNHOST_CHECK_MATCH) return fail(h, NULL, "host key not in known_hosts");
  if (libssh2_userauth_publickey_fromfile(s, h->user, NULL, h->key, NULL)) return fail(h, s, "authentication");
  LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
  if (!c) return fail(h, s, "channel");
  if (libssh2_channel_exec(c, "true")) return fail(h, s, "exec");
  char buf[4096];
  ssize_t n;
  while ((n = libssh2_channel_read(c, buf, sizeof buf)) > 0) {}
  if (n < 0) return fail(h, s, "read");
  while ((n = libssh2_channel_read_stderr(c, buf, sizeof buf)) > 0) {}
  if (n < 0) return fail(h, s, "read stderr");
  if (libssh2_channel_close(c) || libssh2_channel_wait_closed(c)) return fail(h, s, "close");
  int status = libssh2_channel_get_exit_status(c);
  libssh2_channel_free(c);
  if (status != 0) return fail(h, NULL, "`true` did not exit 0");
  libssh2_session_disconnect(s, "done");
  return 0;
}

static void *run(void *arg) {
  struct host *h = arg;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->port)};
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || inet_pton(AF_INET, h->addr, &sa.sin_addr) != 1) {
    fail(h, NULL, "bad address");
  } else if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
             connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    snprintf(h->error, sizeof h->error, "connect: %s", strerror(errno));
  } else {
    LIBSSH2_SESSION *s = libssh2_session_init();
    h->ok = s && session(h, fd, s) == 0;
    if (s) libssh2_session_free(s);
  }
  if (fd >= 0) close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  FILE *f = argc == 2 ? fopen(argv[1], "r") : NULL;
  if (!f) {
    fprintf(stderr, "usage: floor HOSTS_FILE (lines: addr port user private_key known_hosts)\n");
    return 2;
  }
  struct host *hosts = NULL;
  int count = 0;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    struct host h = {0};
    if (line[0] == '#' || sscanf(line, "%63s %d %63s %511s %511s", h.addr, &h.port, h.user, h.key, h.known) != 5)
      continue;
    hosts = realloc(hosts, (count + 1) * sizeof *hosts);
    hosts[count++] = h;
  }
  fclose(f);
  if (count == 0 || libssh2_init(0)) {
    fprintf(stderr, "floor: no hosts, or libssh2_init failed\n");
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int started = 0, failed = 0;
  while (started < count && pthread_create(&hosts[started].thread, NULL, run, &hosts[started]) == 0) started++;
  for (int i = 0; i < count; i++) {
    if (i < started) pthread_join(hosts[i].thread, NULL);
    else snprintf(hosts[i].error, sizeof hosts[i].error, "no thread");
    if (!hosts[i].ok) {
      failed++;
      fprintf(stderr, "floor: %s:%d: %s\n", hosts[i].addr, hosts[i].port, hosts[i].error);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("floor: %d hosts, %d failed, wall=%.6f\n", count, failed,
         (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  libssh2_exit();
  return failed ? 1 : 0;
}
