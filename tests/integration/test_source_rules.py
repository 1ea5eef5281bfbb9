"""Rules of the source tree that a reviewer would otherwise check by hand:
the core never includes httpd, every log line has its own APLOGNO, comments
stand on their own (no citations of documents outside the repository), and
no file under sql/ rewrites another's function text, and the router fuzzer
matches over the module's own route table."""
import glob
import os
import re

from tzstack import REPO

SRC = os.path.join(REPO, "mod_tipzed")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def test_core_includes_no_httpd_header():
    httpd = re.compile(r'#include\s+[<"](httpd|http_\w+|ap_\w+|util_\w+|mod_\w+|apr_dbd)\.h[>"]')
    for path in glob.glob(os.path.join(SRC, "tz_*.[ch]")):
        for n, line in enumerate(read(path).splitlines(), 1):
            assert not httpd.search(line), f"{path}:{n}: the core includes an httpd header"


def test_the_router_fuzzer_has_the_module_routes():
    """tests/fuzz/fuzz_router.c cannot link the httpd glue, so it carries a
    copy of the route table: the copy is the table, route by route."""
    pattern = r'"(GET|POST|PUT|PATCH|DELETE)", "(/[^"]*)"'
    table = re.findall(r"R\(" + pattern, read(os.path.join(SRC, "mod_tipzed_routes.c")))
    copy = re.findall(r"\{" + pattern, read(os.path.join(REPO, "tests", "fuzz", "fuzz_router.c")))
    assert len(table) > 50 and copy == table


def test_aplogno_numbers_are_unique():
    seen = {}
    for path in sorted(glob.glob(os.path.join(SRC, "*.c"))):
        for n, line in enumerate(read(path).splitlines(), 1):
            for num in re.findall(r"APLOGNO\((\d+)\)", line):
                assert num not in seen, f"APLOGNO({num}) at {path}:{n} and {seen[num]}"
                seen[num] = f"{path}:{n}"
    assert len(seen) > 10


def test_comments_cite_nothing_outside_the_repository():
    pattern = re.compile(r"\bSPEC\b|PITFALLS|shared/")
    files = [p for ext in ("c", "h", "sql", "py", "sh", "mk", "lua")
             for p in glob.glob(os.path.join(REPO, "**", f"*.{ext}"), recursive=True)
             if "/build/" not in p and "/.git/" not in p]
    files += [os.path.join(REPO, "Makefile")]
    bad = [f"{p}:{n}" for p in files for n, line in enumerate(read(p).splitlines(), 1)
           if pattern.search(line) and p != __file__]
    assert not bad, "comments citing documents outside the repository: " + ", ".join(bad[:20])
