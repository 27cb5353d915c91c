/*
 * An in-process PAM driver: pam_start / pam_authenticate / pam_end in a loop,
 * through real Linux-PAM, so that one process runs thousands of
 * authentications (pamtester starts a process per login, which hides the
 * cost of what it drives). Used by the bridge fuzzer (with the bridge and
 * this driver built under ASan and UBSan) and by scripts/bench.
 *
 *   pam-driver SERVICE USER COUNT [ANSWER]
 *
 * Prompts are answered with ANSWER (default "token"); messages are dropped.
 * Prints one line per authentication: the PAM code pam_authenticate returned
 * and the microseconds pam_start..pam_end took.
 * Exits 0 after COUNT authentications, 2 on bad arguments or a PAM start failure.
 */
#define _POSIX_C_SOURCE 200809L /* strdup: without it, C11 declares none, and the implicit int truncates the pointer */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata) {
  const char *answer = appdata;
  struct pam_response *r = calloc((size_t)n, sizeof *r);
  if (!r) return PAM_BUF_ERR;
  for (int i = 0; i < n; i++) {
    if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
      r[i].resp = strdup(answer);
      if (!r[i].resp) {
        for (int j = 0; j < i; j++) free(r[j].resp);
        free(r);
        return PAM_BUF_ERR;
      }
    }
  }
  *resp = r;
  return PAM_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: pam-driver SERVICE USER COUNT [ANSWER]\n");
    return 2;
  }
  char *end;
  long count = strtol(argv[3], &end, 10);
  if (*end || count < 1) {
    fprintf(stderr, "pam-driver: COUNT must be a positive number\n");
    return 2;
  }
  struct pam_conv conv = {converse, argc == 5 ? argv[4] : "token"};
  for (long i = 0; i < count; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pam_handle_t *pamh = NULL;
    int rc = pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc != PAM_SUCCESS) {
      fprintf(stderr, "pam-driver: pam_start: %d\n", rc);
      return 2;
    }
    rc = pam_authenticate(pamh, 0);
    pam_end(pamh, rc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d %ld\n", rc, (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L));
    fflush(stdout);
  }
  return 0;
}
