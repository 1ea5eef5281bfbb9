/* Replays inputs through a fuzz target's LLVMFuzzerTestOneInput without
 * libFuzzer (gcc builds, `make unit`).  Arguments are files or directories
 * (every regular file in them); without arguments the directories compiled
 * in as TZ_REPLAY_DIRS are used.  Prints a check-style summary line; an
 * input that crashes the target kills the process before it. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ninputs, nerrors;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        nerrors++;
        return;
    }
    do {
        if (n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 4096)))
            abort();
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    /* an exact-size copy so ASan sees reads past the input's end */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    ninputs++;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, int must_exist)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (must_exist) {
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            nerrors++;
        }
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    if (!d) {
        nerrors++;
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!(names = realloc(names, (n + 1) * sizeof *names)))
            abort();
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len)))
            abort();
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_path(argv[i], 1);
    } else {
#ifdef TZ_REPLAY_DIRS
        char dirs[] = TZ_REPLAY_DIRS, *save = NULL;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
            run_path(d, 0);
#endif
    }
    /* The summary line tests/stack/test.sh counts (one check per input). */
    printf("%d%%: Checks: %d, Failures: 0, Errors: %d\n",
           ninputs + nerrors ? 100 * ninputs / (ninputs + nerrors) : 100, ninputs + nerrors,
           nerrors);
    return nerrors ? 1 : 0;
}
