/*
 * pam_oauth_ssh.so: the PAM side of oauth-ssh.
 *
 * A thin bridge, on purpose: it relays one authentication's PAM conversation
 * to the oauth-ssh-server daemon over a root-only Unix socket and returns the
 * PAM code the daemon names. It holds no policy. Protocol: PROTOCOL.md.
 *
 * It fails closed: any error, timeout or surprise from the daemon gives
 * PAM_AUTHINFO_UNAVAIL, never PAM_SUCCESS. Answers (tokens) are wiped from
 * memory after use and never logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#define DEFAULT_SOCKET "/run/oauth-ssh/pam.sock"
#define DEFAULT_TIMEOUT_S 15
#define DEFAULT_DEADLINE_S 300
#define MAX_LINE 65536
#define MAX_DAEMON_LINES 64
/* KEEPALIVEs do not count as lines (a device login waits minutes); they have their own bound. */
#define MAX_KEEPALIVES 1024
#define TICKET_LEN 64
#define HANDLED_KEY "pam_oauth_ssh_ticket"
/*
 * sshd runs pam_authenticate in a separate process and carries only the PAM
 * environment back to the process that calls pam_acct_mgmt and pam_setcred.
 * So a successful authentication leaves the daemon's ticket (random, bound
 * to the user and service, short-lived) there, and those entry points ask
 * the daemon whether it is real: a mark anyone can set proves nothing.
 */
#define TICKET_ENV "OAUTH_SSH_TICKET"

struct options {
  const char *socket_path;
  int timeout_ms;
  int deadline_s;
  uid_t daemon_uid;
  gid_t daemon_gid;
  int daemon_gid_set;
  /* daemon_user=NAME: the daemon's account, looked up at each authentication (uid and primary group). */
  const char *daemon_user;
  int debug;
  /* GO's module argument: which Globus environment the PAM line expects (the daemon checks it). */
  const char *environment;
};

struct link {
  int fd;
  char buf[MAX_LINE + 1];
  size_t len;            /* bytes buffered */
  struct timespec deadline;
};

static void wipe(void *p, size_t n) { explicit_bzero(p, n); }

static long ms_until(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (t->tv_sec - now.tv_sec) * 1000L + (t->tv_nsec - now.tv_nsec) / 1000000L;
}

static int parse_int(const char *s, int min, int max, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < min || v > max) return -1;
  *out = (int)v;
  return 0;
}

/* daemon_user= names the account: its uid (and, unless daemon_gid= says otherwise, its primary group). */
static int resolve_daemon_user(struct options *o) {
  if (!o->daemon_user) return 0;
  struct passwd pw, *found = NULL;
  char buf[4096];
  if (getpwnam_r(o->daemon_user, &pw, buf, sizeof buf, &found) != 0 || !found) return -1; /* also ERANGE: fail closed */
  o->daemon_uid = found->pw_uid;
  if (!o->daemon_gid_set) {
    o->daemon_gid = found->pw_gid;
    o->daemon_gid_set = 1;
  }
  return 0;
}

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o) {
  o->socket_path = DEFAULT_SOCKET;
  o->timeout_ms = DEFAULT_TIMEOUT_S * 1000;
  o->deadline_s = DEFAULT_DEADLINE_S;
  o->daemon_uid = 0;
  o->daemon_gid = 0;
  o->daemon_gid_set = 0;
  o->daemon_user = NULL;
  o->debug = 0;
  o->environment = NULL;
  for (int i = 0; i < argc; i++) {
    int v;
    if (strncmp(argv[i], "socket=", 7) == 0 && argv[i][7] == '/') {
      o->socket_path = argv[i] + 7;
    } else if (strncmp(argv[i], "timeout=", 8) == 0 && parse_int(argv[i] + 8, 1, 3600, &v) == 0) {
      o->timeout_ms = v * 1000;
    } else if (strncmp(argv[i], "deadline=", 9) == 0 && parse_int(argv[i] + 9, 1, 3600, &v) == 0) {
      o->deadline_s = v;
    } else if (strncmp(argv[i], "daemon_uid=", 11) == 0 && parse_int(argv[i] + 11, 0, 0x7fffffff, &v) == 0) {
      o->daemon_uid = (uid_t)v;
    } else if (strncmp(argv[i], "daemon_user=", 12) == 0 && argv[i][12] != '\0') {
      o->daemon_user = argv[i] + 12;
    } else if (strncmp(argv[i], "daemon_gid=", 11) == 0 && parse_int(argv[i] + 11, 0, 0x7fffffff, &v) == 0) {
      o->daemon_gid = (gid_t)v;
      o->daemon_gid_set = 1;
    } else if (strcmp(argv[i], "debug") == 0) {
      o->debug = 1;
    } else if (strncmp(argv[i], "environment=", 12) == 0 && argv[i][12] != '\0' && strlen(argv[i] + 12) <= 32 &&
               strspn(argv[i] + 12, "abcdefghijklmnopqrstuvwxyz") == strlen(argv[i] + 12)) {
      o->environment = argv[i] + 12;
    } else {
      pam_syslog(pamh, LOG_ERR, "bad module argument \"%s\" (expected socket=/PATH, timeout=S, deadline=S, daemon_uid=N, daemon_gid=N, daemon_user=NAME, environment=NAME, debug)", argv[i]);
      return -1;
    }
  }
  if (resolve_daemon_user(o) != 0) {
    pam_syslog(pamh, LOG_ERR, "daemon_user %s does not exist", o->daemon_user);
    return -1;
  }
  if (strlen(o->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    pam_syslog(pamh, LOG_ERR, "socket path too long: %s", o->socket_path);
    return -1;
  }
  return 0;
}

/* The daemon's expected gid: daemon_gid=, else root's 0, else the daemon user's primary group. */
static int expected_gid(const struct options *o, gid_t *gid) {
  if (o->daemon_gid_set || o->daemon_uid == 0) {
    *gid = o->daemon_gid_set ? o->daemon_gid : 0;
    return 0;
  }
  struct passwd pw, *found = NULL;
  char buf[4096];
  if (getpwuid_r(o->daemon_uid, &pw, buf, sizeof buf, &found) != 0 || !found) return -1;
  *gid = found->pw_gid;
  return 0;
}

static int connect_daemon(pam_handle_t *pamh, const struct options *o) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000};
  /* AF_UNIX connect() and send() honour SO_SNDTIMEO: a full backlog cannot hang us. */
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, o->socket_path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    pam_syslog(pamh, LOG_ERR, "cannot connect to the oauth-ssh daemon at %s: %s", o->socket_path, strerror(errno));
    close(fd);
    return -1;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  gid_t gid;
  if (expected_gid(o, &gid) != 0) {
    pam_syslog(pamh, LOG_ERR, "no group for daemon_uid %u: set daemon_gid=", (unsigned)o->daemon_uid);
    close(fd);
    return -1;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred || cred.uid != o->daemon_uid || cred.gid != gid) {
    pam_syslog(pamh, LOG_ERR, "refusing the peer at %s: it does not run as uid %u gid %u", o->socket_path, (unsigned)o->daemon_uid, (unsigned)gid);
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* never SIGPIPE the sshd process */
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Percent-encodes `in` into a malloc'd string: '%', ' ', bytes < 0x20 and 0x7f. */
static char *encode(const char *in) {
  size_t n = strlen(in);
  char *out = malloc(n * 3 + 1), *q = out;
  if (!out) return NULL;
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    if (*p == '%' || *p == ' ' || *p < 0x20 || *p == 0x7f) q += sprintf(q, "%%%02X", *p);
    else *q++ = (char)*p;
  }
  *q = '\0';
  return out;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes in place; -1 on a malformed escape or an encoded NUL. */
static int decode(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r != '%') { *w++ = *r; continue; }
    int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
    if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
    *w++ = (char)(hi * 16 + lo);
    r += 2;
  }
  *w = '\0';
  return 0;
}

/*
 * Reads one line (without '\n') into *line, pointing into l->buf. Waits at
 * most the idle timeout, and never past the overall deadline. -1 on timeout,
 * EOF, error or an oversized line.
 */
static int read_line(pam_handle_t *pamh, struct link *l, const struct options *o, char **line) {
  for (;;) {
    char *nl = memchr(l->buf, '\n', l->len);
    if (nl) {
      /* PROTOCOL.md: bytes below 0x20 travel %-encoded. A raw one (a NUL above all: C string
         functions would stop there, and "SUCCESS\0AUTH_ERR" would read as SUCCESS) is an error. */
      for (const char *c = l->buf; c < nl; c++) {
        if ((unsigned char)*c < 0x20) {
          pam_syslog(pamh, LOG_ERR, "daemon sent a raw control byte in a line");
          return -1;
        }
      }
      *nl = '\0';
      *line = l->buf;
      return (int)(nl - l->buf) + 1;
    }
    if (l->len >= MAX_LINE) {
      pam_syslog(pamh, LOG_ERR, "daemon sent a line over %d bytes", MAX_LINE);
      return -1;
    }
    long left = ms_until(&l->deadline);
    int wait = left < o->timeout_ms ? (int)left : o->timeout_ms;
    if (wait <= 0) {
      pam_syslog(pamh, LOG_ERR, "daemon took longer than the deadline (%d s)", o->deadline_s);
      return -1;
    }
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    int r = poll(&p, 1, wait);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      pam_syslog(pamh, LOG_ERR, "daemon silent for %d ms", wait);
      return -1;
    }
    if (r < 0) return -1;
    ssize_t got = recv(l->fd, l->buf + l->len, MAX_LINE - l->len, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      pam_syslog(pamh, LOG_ERR, "daemon closed the connection before a result");
      return -1;
    }
    l->len += (size_t)got;
  }
}

/* Drops the consumed line (and wipes it: it may have carried a prompt only, but be uniform). */
static void consume(struct link *l, int n) {
  wipe(l->buf, (size_t)n);
  memmove(l->buf, l->buf + n, l->len - (size_t)n);
  l->len -= (size_t)n;
}

/* Runs one PAM conversation message; returns the answer (malloc'd) for prompts, or NULL. */
static int converse(pam_handle_t *pamh, int style, const char *text, char **answer) {
  const struct pam_conv *conv = NULL;
  *answer = NULL;
  if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS || !conv || !conv->conv) return -1;
  struct pam_message msg = {.msg_style = style, .msg = text};
  const struct pam_message *msgp = &msg;
  struct pam_response *resp = NULL;
  int rc = conv->conv(1, &msgp, &resp, conv->appdata_ptr);
  if (resp) {
    if (rc == PAM_SUCCESS && resp->resp) *answer = resp->resp;
    else if (resp->resp) { wipe(resp->resp, strlen(resp->resp)); free(resp->resp); }
    free(resp);
  }
  return rc == PAM_SUCCESS ? 0 : -1;
}

static int result_code(const char *name) {
  static const struct { const char *name; int code; } table[] = {
    {"SUCCESS", PAM_SUCCESS}, {"AUTH_ERR", PAM_AUTH_ERR}, {"AUTHINFO_UNAVAIL", PAM_AUTHINFO_UNAVAIL},
    {"USER_UNKNOWN", PAM_USER_UNKNOWN}, {"MAXTRIES", PAM_MAXTRIES}, {"IGNORE", PAM_IGNORE},
    {"SYSTEM_ERR", PAM_SYSTEM_ERR},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(name, table[i].name) == 0) return table[i].code;
  return -1;
}

static const char *item(pam_handle_t *pamh, int type) {
  const void *v = NULL;
  return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v ? (const char *)v : "";
}

static int send_request(struct link *l, pam_handle_t *pamh, const char *user, const char *environment) {
  char *u = encode(user), *s = encode(item(pamh, PAM_SERVICE)), *r = encode(item(pamh, PAM_RHOST)), *t = encode(item(pamh, PAM_TTY));
  int rc = -1;
  if (u && s && r && t) {
    /* environment is [a-z]{1,32} (checked in parse_options): nothing to encode. */
    size_t n = strlen(u) + strlen(s) + strlen(r) + strlen(t) + 64 + (environment ? strlen(environment) + 16 : 0);
    char *line = malloc(n);
    if (line) {
      if (environment) snprintf(line, n, "OAUTH-SSH/1 AUTH user=%s service=%s rhost=%s tty=%s environment=%s\n", u, s, r, t, environment);
      else snprintf(line, n, "OAUTH-SSH/1 AUTH user=%s service=%s rhost=%s tty=%s\n", u, s, r, t);
      rc = strlen(line) <= MAX_LINE ? send_all(l->fd, line, strlen(line)) : -1;
      free(line);
    }
  }
  free(u); free(s); free(r); free(t);
  return rc;
}

/* Answers a PROMPT_* line: ANSWER <encoded> or NOANSWER. */
static int relay_prompt(pam_handle_t *pamh, struct link *l, int style, const char *text) {
  char *answer = NULL;
  int rc;
  if (converse(pamh, style, text, &answer) == 0 && answer) {
    char *enc = encode(answer);
    wipe(answer, strlen(answer));
    free(answer);
    if (!enc) return -1;
    size_t n = strlen(enc) + 9;
    char *line = malloc(n);
    if (!line) { wipe(enc, strlen(enc)); free(enc); return -1; }
    snprintf(line, n, "ANSWER %s\n", enc);
    rc = strlen(line) <= MAX_LINE ? send_all(l->fd, line, strlen(line)) : -1;
    wipe(enc, strlen(enc)); free(enc);
    wipe(line, n); free(line);
  } else {
    rc = send_all(l->fd, "NOANSWER\n", 9);
  }
  return rc;
}

static int is_ticket(const char *t) {
  return t && strlen(t) == TICKET_LEN && strspn(t, "0123456789abcdef") == TICKET_LEN;
}

/* Runs one authentication; on success `ticket` holds the daemon's ticket, or "" if it sent none. */
static int authenticate(pam_handle_t *pamh, const struct options *o, const char *user, int silent, char ticket[TICKET_LEN + 1]) {
  struct link *l = calloc(1, sizeof *l);
  if (!l) return PAM_AUTHINFO_UNAVAIL;
  int result = PAM_AUTHINFO_UNAVAIL;
  int keepalives = 0;
  ticket[0] = '\0';
  l->fd = connect_daemon(pamh, o);
  clock_gettime(CLOCK_MONOTONIC, &l->deadline);
  l->deadline.tv_sec += o->deadline_s;
  if (l->fd < 0 || send_request(l, pamh, user, o->environment) != 0) goto done;

  for (int lines = 0; lines < MAX_DAEMON_LINES;) {
    char *line;
    int n = read_line(pamh, l, o, &line);
    if (n < 0) goto done;
    char *arg = strchr(line, ' ');
    if (arg) *arg++ = '\0';
    if (arg && decode(arg) != 0) {
      pam_syslog(pamh, LOG_ERR, "daemon sent a malformed value after %s", line);
      goto done;
    }
    int failed = 0;
    if (strcmp(line, "PROMPT_OFF") == 0 && arg) failed = relay_prompt(pamh, l, PAM_PROMPT_ECHO_OFF, arg);
    else if (strcmp(line, "PROMPT_ON") == 0 && arg) failed = relay_prompt(pamh, l, PAM_PROMPT_ECHO_ON, arg);
    else if ((strcmp(line, "INFO") == 0 || strcmp(line, "ERROR") == 0) && arg) {
      char *none = NULL; /* an application may answer a message too: not ours to keep */
      if (!silent) converse(pamh, line[0] == 'I' ? PAM_TEXT_INFO : PAM_ERROR_MSG, arg, &none);
      free(none);
    }
    else if (strcmp(line, "KEEPALIVE") == 0 && !arg) {
      if (++keepalives > MAX_KEEPALIVES) {
        pam_syslog(pamh, LOG_ERR, "daemon sent more than %d keep-alives", MAX_KEEPALIVES);
        goto done;
      }
      lines--; /* not a line: bounded by its own count and by the deadline */
    } else if (strcmp(line, "TICKET") == 0 && is_ticket(arg)) {
      memcpy(ticket, arg, TICKET_LEN + 1);
    } else if (strcmp(line, "RESULT") == 0 && arg) {
      int code = result_code(arg);
      if (code < 0) pam_syslog(pamh, LOG_ERR, "daemon sent an unknown result");
      else result = code;
      goto done;
    } else {
      pam_syslog(pamh, LOG_ERR, "daemon sent an unknown or malformed line");
      goto done;
    }
    lines++;
    consume(l, n);
    if (failed) {
      pam_syslog(pamh, LOG_ERR, "lost the daemon while relaying an answer");
      goto done;
    }
  }
  pam_syslog(pamh, LOG_ERR, "daemon sent more than %d lines", MAX_DAEMON_LINES);
done:
  if (l->fd >= 0) close(l->fd);
  wipe(l, sizeof *l);
  free(l);
  return result;
}

static void free_data(pam_handle_t *pamh, void *data, int status) {
  (void)pamh; (void)status;
  if (data) { wipe(data, strlen(data)); free(data); }
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  struct options o;
  const char *user = NULL;
  char ticket[TICKET_LEN + 1];
  pam_set_data(pamh, HANDLED_KEY, NULL, NULL);
  pam_putenv(pamh, TICKET_ENV); /* no '=': removes a stale ticket */
  if (parse_options(pamh, argc, argv, &o) != 0) return PAM_AUTHINFO_UNAVAIL;
  if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user) return PAM_USER_UNKNOWN;
  int rc = authenticate(pamh, &o, user, (flags & PAM_SILENT) != 0, ticket);
  if (o.debug) pam_syslog(pamh, LOG_DEBUG, "user %s: %s", user, pam_strerror(pamh, rc));
  if (rc == PAM_SUCCESS && ticket[0]) {
    /* The module data says "ticket user": acct_mgmt in this handle trusts it for this user only. */
    size_t n = TICKET_LEN + 1 + strlen(user) + 1;
    char *copy = malloc(n);
    char env[sizeof TICKET_ENV + TICKET_LEN + 1];
    snprintf(env, sizeof env, "%s=%s", TICKET_ENV, ticket);
    if (copy) snprintf(copy, n, "%s %s", ticket, user);
    if (!copy || pam_set_data(pamh, HANDLED_KEY, copy, free_data) != PAM_SUCCESS) {
      free(copy); /* PAM did not take it */
      rc = PAM_SYSTEM_ERR; /* an authentication whose later steps would refuse it */
    } else if (pam_putenv(pamh, env) != PAM_SUCCESS) {
      pam_set_data(pamh, HANDLED_KEY, NULL, NULL); /* PAM owns the copy now: let it free it */
      rc = PAM_SYSTEM_ERR;
    }
    wipe(env, sizeof env);
  }
  wipe(ticket, sizeof ticket);
  return rc;
}

/*
 * Did this module authenticate this login? In the same PAM handle the ticket
 * in the module data says so; across sshd's process boundary only the PAM
 * environment came along, and anyone can put a variable there, so the daemon
 * must confirm the ticket for this user and service. Any doubt: no.
 */
static int authenticated_here(pam_handle_t *pamh, int argc, const char **argv) {
  const void *data = NULL;
  const char *user = NULL;
  if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user) return 0;
  if (pam_get_data(pamh, HANDLED_KEY, &data) == PAM_SUCCESS && data) {
    /* "ticket user", written by pam_sm_authenticate: this handle authenticated this user (PAM_USER may have changed since). */
    const char *d = data;
    return strlen(d) > TICKET_LEN + 1 && d[TICKET_LEN] == ' ' && strcmp(d + TICKET_LEN + 1, user) == 0;
  }
  const char *ticket = pam_getenv(pamh, TICKET_ENV);
  struct options o;
  if (!is_ticket(ticket) || parse_options(pamh, argc, argv, &o) != 0) return 0;
  struct link *l = calloc(1, sizeof *l);
  if (!l) return 0;
  int confirmed = 0;
  l->fd = connect_daemon(pamh, &o);
  clock_gettime(CLOCK_MONOTONIC, &l->deadline);
  l->deadline.tv_sec += o.timeout_ms / 1000 + 1;
  char *u = encode(user), *s = encode(item(pamh, PAM_SERVICE));
  if (l->fd >= 0 && u && s) {
    size_t n = strlen(u) + strlen(s) + TICKET_LEN + 64;
    char *line = malloc(n);
    if (line) {
      snprintf(line, n, "OAUTH-SSH/1 CHECK user=%s service=%s ticket=%s\n", u, s, ticket);
      char *reply;
      if (strlen(line) <= MAX_LINE && send_all(l->fd, line, strlen(line)) == 0 && read_line(pamh, l, &o, &reply) > 0) confirmed = strcmp(reply, "RESULT SUCCESS") == 0;
      wipe(line, n);
      free(line);
    }
  }
  free(u); free(s);
  if (l->fd >= 0) close(l->fd);
  wipe(l, sizeof *l);
  free(l);
  return confirmed;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)flags;
  return authenticated_here(pamh, argc, argv) ? PAM_SUCCESS : PAM_IGNORE;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)flags;
  return authenticated_here(pamh, argc, argv) ? PAM_SUCCESS : PAM_IGNORE;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)pamh; (void)flags; (void)argc; (void)argv;
  return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)pamh; (void)flags; (void)argc; (void)argv;
  return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)pamh; (void)flags; (void)argc; (void)argv;
  return PAM_IGNORE;
}
