/*
 * C test of the cks_policy ABI, linked against the static library:
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -I policy-ffi/include policy-ffi/tests/c/test.c \
 *       target/ffi/libcks_policy.a <link flags from policy-ffi/README.md> -o cks_policy_test
 *
 *   ./cks_policy_test             every function, NULL arguments, bad settings
 *   ./cks_policy_test leak N      N evaluate/review/free cycles (run under valgrind)
 *   ./cks_policy_test leak N rss  the same natively, failing if the peak RSS keeps growing
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cks_policy.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_RC(got, want)                                                      \
    do {                                                                         \
        cks_policy_result rc_ = (got);                                           \
        if (rc_ == (want)) {                                                     \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, want %s\n", __FILE__, __LINE__, #got, \
                    cks_policy_result_name((uint32_t)rc_), #want);               \
        }                                                                        \
    } while (0)

static const char POD[] =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: web, namespace: team}\n"
    "spec:\n"
    "  containers:\n"
    "  - {name: web, image: nginx}\n";

static const char REVIEW[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
    "\"uid\":\"c-test-uid\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
    "\"operation\":\"CREATE\",\"namespace\":\"team\",\"userInfo\":{\"username\":\"alice\"},"
    "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},"
    "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]}}}}";

static const char NODES[] =
    "apiVersion: v1\n"
    "kind: Node\n"
    "metadata:\n"
    "  name: cpu-1\n"
    "  labels: {node.coreweave.cloud/state: production}\n"
    "spec:\n"
    "  taints:\n"
    "  - {key: is_cpu_compute, effect: NoSchedule}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Node\n"
    "metadata:\n"
    "  name: db-1\n"
    "  labels: {node.coreweave.cloud/state: production}\n"
    "spec:\n"
    "  taints:\n"
    "  - {key: dedicated, value: db, effect: NoSchedule}\n";

static const cks_policy_buffer EMPTY = {NULL, 0};

static int contains(const cks_policy_buffer *b, const char *needle) {
    return b->data != NULL && strstr(b->data, needle) != NULL;
}

static cks_policy *new_policy(const char *settings) {
    cks_policy *p = NULL;
    cks_policy_buffer err = EMPTY;
    cks_policy_result rc =
        cks_policy_new((const uint8_t *)settings, strlen(settings), &p, &err);
    if (rc != CKS_POLICY_OK) {
        fprintf(stderr, "cks_policy_new: %s %s\n", cks_policy_result_name((uint32_t)rc),
                err.data ? err.data : "");
        cks_policy_buffer_free(&err);
        exit(2);
    }
    return p;
}

static void test_version(void) {
    CHECK(strcmp(cks_policy_version(), CKS_POLICY_VERSION) == 0);
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", CKS_POLICY_VERSION_MAJOR, CKS_POLICY_VERSION_MINOR,
             CKS_POLICY_VERSION_PATCH);
    CHECK(strcmp(cks_policy_version(), want) == 0);
    CHECK(strcmp(cks_policy_result_name(CKS_POLICY_OK), "CKS_POLICY_OK") == 0);
    CHECK(strcmp(cks_policy_result_name(CKS_POLICY_PANIC), "CKS_POLICY_PANIC") == 0);
    CHECK(strcmp(cks_policy_result_name(12345), "CKS_POLICY_UNKNOWN") == 0);
    /* Distinctive values: nothing but OK is a small integer. */
    CHECK(CKS_POLICY_OK == 0 && CKS_POLICY_NULL_ARGUMENT > 7000 && CKS_POLICY_PANIC > 7000);
}

static void test_new(void) {
    cks_policy *p = NULL;
    cks_policy_buffer err = EMPTY;

    /* Defaults: (NULL, 0) settings and "{}" both compile. */
    CHECK_RC(cks_policy_new(NULL, 0, &p, &err), CKS_POLICY_OK);
    CHECK(p != NULL && err.data == NULL);
    cks_policy_free(p);
    p = NULL;

    /* YAML settings. */
    const char *yaml = "mode: warn\nimages:\n  allow: ['registry.example/*']\n";
    CHECK_RC(cks_policy_new((const uint8_t *)yaml, strlen(yaml), &p, &err), CKS_POLICY_OK);
    cks_policy_free(p);
    p = NULL;

    /* Bad settings: every problem, with paths; no handle written. */
    const char *bad = "{\"mdoe\":\"enforce\",\"images\":{\"allow\":[\"[bad\"]}}";
    CHECK_RC(cks_policy_new((const uint8_t *)bad, strlen(bad), &p, &err),
             CKS_POLICY_INVALID_SETTINGS);
    CHECK(p == NULL);
    CHECK(contains(&err, "{\"problems\":[{\"path\":"));
    CHECK(contains(&err, "mdoe"));
    CHECK(contains(&err, "/images/allow/0"));
    CHECK(err.len == strlen(err.data));
    cks_policy_buffer_free(&err);
    CHECK(err.data == NULL && err.len == 0);
    cks_policy_buffer_free(&err); /* second free of a zeroed buffer: no-op */

    /* Not JSON nor YAML, and NULL out_error is allowed. */
    CHECK_RC(cks_policy_new((const uint8_t *)"{", 1, &p, NULL), CKS_POLICY_INVALID_SETTINGS);
    CHECK(p == NULL);

    /* NULL arguments. */
    CHECK_RC(cks_policy_new(NULL, 0, NULL, &err), CKS_POLICY_NULL_ARGUMENT);
    CHECK(contains(&err, "out_policy"));
    cks_policy_buffer_free(&err);
    CHECK_RC(cks_policy_new(NULL, 10, &p, NULL), CKS_POLICY_NULL_ARGUMENT);
    CHECK(p == NULL);
}

static void test_evaluate(void) {
    cks_policy *p = new_policy("{}");
    cks_policy_buffer out = EMPTY, err = EMPTY;

    CHECK_RC(cks_policy_evaluate(p, "pod.yaml", (const uint8_t *)POD, strlen(POD), NULL, 0, &out,
                                 &err),
             CKS_POLICY_OK);
    CHECK(out.data != NULL && out.len == strlen(out.data));
    CHECK(strncmp(out.data, "{\"summary\":{\"documents\":1,", 26) == 0);
    CHECK(contains(&out, "\"source\":\"pod.yaml\""));
    CHECK(contains(&out, "\"allowed\":false"));
    CHECK(contains(&out, "image-mutable-tag"));
    CHECK(err.data == NULL);
    cks_policy_buffer_free(&out);

    /* No source: null; a context. */
    const char *ctx = "{\"namespaces\":{\"team\":{\"ns.coreweave.cloud/org\":\"acme\"}}}";
    CHECK_RC(cks_policy_evaluate(p, NULL, (const uint8_t *)POD, strlen(POD), (const uint8_t *)ctx,
                                 strlen(ctx), &out, &err),
             CKS_POLICY_OK);
    CHECK(contains(&out, "\"source\":null"));
    cks_policy_buffer_free(&out);

    /* Unreadable input is a finding, not an error code. */
    CHECK_RC(cks_policy_evaluate(p, "-", (const uint8_t *)"a: [", 4, NULL, 0, &out, &err),
             CKS_POLICY_OK);
    CHECK(contains(&out, "input-invalid"));
    cks_policy_buffer_free(&out);

    /* Empty input: an empty report. */
    CHECK_RC(cks_policy_evaluate(p, "-", NULL, 0, NULL, 0, &out, &err), CKS_POLICY_OK);
    CHECK(contains(&out, "\"documents\":0"));
    cks_policy_buffer_free(&out);

    /* Errors leave out_json untouched. */
    CHECK_RC(cks_policy_evaluate(p, "-", (const uint8_t *)POD, strlen(POD),
                                 (const uint8_t *)"{\"x\":1}", 7, &out, &err),
             CKS_POLICY_INVALID_CONTEXT);
    CHECK(out.data == NULL);
    CHECK(contains(&err, "context"));
    cks_policy_buffer_free(&err);

    const char bad_source[] = {(char)0xff, (char)0xfe, 0};
    CHECK_RC(cks_policy_evaluate(p, bad_source, (const uint8_t *)POD, strlen(POD), NULL, 0, &out,
                                 &err),
             CKS_POLICY_INVALID_UTF8);
    CHECK(out.data == NULL);
    cks_policy_buffer_free(&err);

    CHECK_RC(cks_policy_evaluate(NULL, "-", (const uint8_t *)POD, strlen(POD), NULL, 0, &out, &err),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK(contains(&err, "policy"));
    cks_policy_buffer_free(&err);
    CHECK_RC(cks_policy_evaluate(p, "-", (const uint8_t *)POD, strlen(POD), NULL, 0, NULL, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_evaluate(p, "-", NULL, 3, NULL, 0, &out, NULL), CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_evaluate(p, "-", (const uint8_t *)POD, strlen(POD), NULL, 2, &out, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK(out.data == NULL);

    cks_policy_free(p);
}

static void test_review(void) {
    cks_policy *p = new_policy("{}");
    cks_policy_buffer out = EMPTY, err = EMPTY;

    CHECK_RC(cks_policy_review(p, (const uint8_t *)REVIEW, strlen(REVIEW), NULL, 0, &out, &err),
             CKS_POLICY_OK);
    CHECK(strncmp(out.data, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"",
                  60) == 0);
    CHECK(contains(&out, "\"uid\":\"c-test-uid\""));
    CHECK(contains(&out, "\"allowed\":false"));
    CHECK(contains(&out, "image-mutable-tag: "));
    cks_policy_buffer_free(&out);

    /* Not a request at all. */
    CHECK_RC(cks_policy_review(p, (const uint8_t *)"[1]", 3, NULL, 0, &out, &err),
             CKS_POLICY_INVALID_INPUT);
    CHECK(out.data == NULL);
    CHECK(contains(&err, "\"problems\""));
    cks_policy_buffer_free(&err);

    CHECK_RC(cks_policy_review(NULL, (const uint8_t *)REVIEW, strlen(REVIEW), NULL, 0, &out, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_review(p, (const uint8_t *)REVIEW, strlen(REVIEW), NULL, 0, NULL, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_review(p, NULL, 1, NULL, 0, &out, NULL), CKS_POLICY_NULL_ARGUMENT);
    cks_policy_free(p);
}

static void test_fits(void) {
    cks_policy *p = new_policy("{}");
    cks_policy_buffer out = EMPTY, err = EMPTY;
    CHECK_RC(cks_policy_fits(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                             strlen(NODES), &out, &err),
             CKS_POLICY_OK);
    /* Judged as admitted: the is_cpu_compute toleration CKS admission adds lets it onto the CPU
       node; the other taint still keeps it off db-1. */
    CHECK(contains(&out, "{\"pod\":\"web\",\"admissionPatch\":[{\"op\":\"add\""));
    CHECK(contains(&out, "\"key\":\"is_cpu_compute\""));
    CHECK(contains(&out, "\"nodes\":[{\"name\":\"cpu-1\",\"fits\":true"));
    CHECK(contains(&out, "{\"name\":\"db-1\",\"fits\":false,\"reasons\":[{\"kind\":\"taint\""));
    CHECK(err.data == NULL);
    cks_policy_buffer_free(&out);

    /* Nodes that are not Nodes: an error naming the document, no output. */
    const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    CHECK_RC(cks_policy_fits(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)cm, strlen(cm),
                             &out, &err),
             CKS_POLICY_INVALID_INPUT);
    CHECK(out.data == NULL && contains(&err, "nodes document 0"));
    cks_policy_buffer_free(&err);

    CHECK_RC(cks_policy_fits(NULL, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                             strlen(NODES), &out, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_fits(p, (const uint8_t *)POD, strlen(POD), NULL, 5, &out, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    CHECK_RC(cks_policy_fits(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                             strlen(NODES), NULL, NULL),
             CKS_POLICY_NULL_ARGUMENT);

    /* With running pods: none (NULL, 0) answers as cks_policy_fits; pods that are not Pods fail. */
    CHECK_RC(cks_policy_fits_with_pods(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                                       strlen(NODES), NULL, 0, &out, &err),
             CKS_POLICY_OK);
    CHECK(contains(&out, "\"nodes\":[{\"name\":\"cpu-1\",\"fits\":true"));
    CHECK(contains(&out, "{\"name\":\"db-1\",\"fits\":false"));
    cks_policy_buffer_free(&out);
    CHECK_RC(cks_policy_fits_with_pods(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                                       strlen(NODES), (const uint8_t *)NODES, strlen(NODES), &out,
                                       &err),
             CKS_POLICY_INVALID_INPUT);
    CHECK(out.data == NULL && contains(&err, "pods document 0"));
    cks_policy_buffer_free(&err);
    CHECK_RC(cks_policy_fits_with_pods(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                                       strlen(NODES), NULL, 3, &out, NULL),
             CKS_POLICY_NULL_ARGUMENT);
    cks_policy_free(p);
}

static void test_catalogue(void) {
    cks_policy_buffer out = EMPTY;
    CHECK_RC(cks_policy_rules(&out), CKS_POLICY_OK);
    CHECK(out.data != NULL && out.data[0] == '[');
    CHECK(contains(&out, "\"id\":\"image-digest-required\""));
    cks_policy_buffer_free(&out);
    CHECK_RC(cks_policy_rules(NULL), CKS_POLICY_NULL_ARGUMENT);

    CHECK_RC(cks_policy_settings_schema(&out), CKS_POLICY_OK);
    CHECK(contains(&out, "\"properties\""));
    cks_policy_buffer_free(&out);
    CHECK_RC(cks_policy_settings_schema(NULL), CKS_POLICY_NULL_ARGUMENT);

    /* Frees of NULL are no-ops. */
    cks_policy_buffer_free(NULL);
    cks_policy_free(NULL);
    CHECK(1);
}

/* The largest value every limit accepts (README "Settings"). */
static const char LARGEST_LIMITS[] =
    "{\"limits\":{\"maxBytes\":16777216,\"maxDepth\":128,\"maxAliases\":10000,"
    "\"maxAliasNodes\":1000000}}";

/* The "billion laughs": nine levels of nine aliases, 9^9 (387,420,489) nodes if expanded. */
static size_t laughs(char *out, size_t cap) {
    size_t n = (size_t)snprintf(out, cap, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
                                          "\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char name = 'b'; name <= 'i'; name++) {
        char prev = (char)(name - 1);
        n += (size_t)snprintf(out + n, cap - n, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
                              name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev);
    }
    return n;
}

/* Issue 18: no accepted settings can make the library allocate without bound. Before, settings
 * `maxAliasNodes: 1000000000` and this document ended the host with SIGABRT (an allocation
 * failure is not a panic: the panic boundary cannot catch it). Now the largest accepted
 * settings refuse the document as input-invalid and the host goes on; larger settings are
 * refused when the policy is made. */
static void test_limits(void) {
    char bomb[1024];
    size_t len = laughs(bomb, sizeof bomb);
    CHECK(len > 300 && len < sizeof bomb);

    cks_policy *p = new_policy(LARGEST_LIMITS);
    cks_policy_buffer out = EMPTY, err = EMPTY;
    for (int i = 0; i < 3; i++) {
        CHECK_RC(cks_policy_evaluate(p, "bomb.yaml", (const uint8_t *)bomb, len, NULL, 0, &out,
                                     &err),
                 CKS_POLICY_OK);
        CHECK(contains(&out, "\"invalid\":1"));
        CHECK(contains(&out, "\"rule\":\"input-invalid\""));
        CHECK(contains(&out, "limits.maxAliasNodes"));
        CHECK(contains(&out, "\"allowed\":false"));
        CHECK(err.data == NULL);
        cks_policy_buffer_free(&out);
    }
    /* The host lives on, and the policy still judges. */
    CHECK_RC(cks_policy_evaluate(p, "pod.yaml", (const uint8_t *)POD, strlen(POD), NULL, 0, &out,
                                 &err),
             CKS_POLICY_OK);
    CHECK(contains(&out, "image-mutable-tag"));
    cks_policy_buffer_free(&out);
    cks_policy_free(p);

    /* Above a ceiling: a settings problem naming the setting and its ceiling. */
    const char *above[][3] = {
        {"{\"limits\":{\"maxAliasNodes\":1000000000}}", "/limits/maxAliasNodes", "1000000"},
        {"{\"limits\":{\"maxBytes\":16777217}}", "/limits/maxBytes", "16777216"},
        {"{\"limits\":{\"maxAliases\":10001}}", "/limits/maxAliases", "10000"},
        {"{\"limits\":{\"maxDepth\":129}}", "/limits/maxDepth", "128"},
    };
    for (size_t i = 0; i < sizeof above / sizeof above[0]; i++) {
        p = NULL;
        CHECK_RC(cks_policy_new((const uint8_t *)above[i][0], strlen(above[i][0]), &p, &err),
                 CKS_POLICY_INVALID_SETTINGS);
        CHECK(p == NULL);
        CHECK(contains(&err, above[i][1]));
        CHECK(contains(&err, above[i][2]));
        cks_policy_buffer_free(&err);
    }
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* evaluate/free cycles for the leak checks; every 1000th cycle also reviews, fits, fails on bad
 * settings and bad input, lists rules and creates/frees a policy, so every allocation path is
 * freed too. Under valgrind a few thousand cycles show any leak; natively (check_rss), 100k
 * cycles must not grow the peak RSS past the first tenth's by more than 4 MiB (a 50-byte leak
 * per call would). */
static int leak(long cycles, int check_rss) {
    cks_policy *p = new_policy("{}");
    long rss_early = 0;
    for (long i = 0; i < cycles; i++) {
        if (i == cycles / 10) {
            rss_early = max_rss_kb();
        }
        cks_policy_buffer out = EMPTY, err = EMPTY;
        if (cks_policy_evaluate(p, "pod.yaml", (const uint8_t *)POD, strlen(POD), NULL, 0, &out,
                                &err) != CKS_POLICY_OK) {
            return 1;
        }
        cks_policy_buffer_free(&out);
        if (i % 1000 == 0) {
            if (cks_policy_review(p, (const uint8_t *)REVIEW, strlen(REVIEW), NULL, 0, &out,
                                  &err) != CKS_POLICY_OK) {
                return 1;
            }
            cks_policy_buffer_free(&out);
            cks_policy_review(p, (const uint8_t *)"[1]", 3, NULL, 0, &out, &err);
            cks_policy_buffer_free(&err);
            cks_policy *q = NULL;
            cks_policy_new((const uint8_t *)"{\"x\":1}", 7, &q, &err);
            cks_policy_buffer_free(&err);
            cks_policy_rules(&out);
            cks_policy_buffer_free(&out);
            if (cks_policy_fits(p, (const uint8_t *)POD, strlen(POD), (const uint8_t *)NODES,
                                strlen(NODES), &out, &err) != CKS_POLICY_OK) {
                return 1;
            }
            cks_policy_buffer_free(&out);
            cks_policy_free(new_policy("{}"));
        }
    }
    cks_policy_free(p);
    long grown = max_rss_kb() - rss_early;
    printf("leak: %ld cycles, peak RSS grew %ld KiB after the first tenth\n", cycles, grown);
    return check_rss && grown > 4096 ? 1 : 0;
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "leak") == 0) {
        return leak(strtol(argv[2], NULL, 10), argc == 4 && strcmp(argv[3], "rss") == 0);
    }
    test_version();
    test_new();
    test_evaluate();
    test_review();
    test_fits();
    test_catalogue();
    test_limits();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
