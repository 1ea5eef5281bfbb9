"""An API request names no file: the module claims it before the core's walk
of DocumentRoot (as mod_proxy claims its requests), so no .htaccess file is
read and no <Directory> section applies to it; everything else is walked as
before."""
import os
import shutil
import urllib.error
import urllib.request
import uuid

from tznode import started_nodes


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_api_requests_skip_the_directory_walk(stack):
    root = os.path.join(stack.dir, f"docroot-{uuid.uuid4().hex[:6]}")
    os.makedirs(os.path.join(root, "api", "v1"))
    with open(os.path.join(root, "plain.txt"), "w") as f:
        f.write("served\n")
    # a directive no server knows: a request whose walk reads it gets a 500
    with open(os.path.join(root, "api", ".htaccess"), "w") as f:
        f.write("NoSuchDirective here\n")
    with open(os.path.join(root, "api", "other.txt"), "w") as f:
        f.write("walked\n")
    for d, _, files in os.walk(root):
        os.chmod(d, 0o755)
        for name in files:
            os.chmod(os.path.join(d, name), 0o644)
    extra = (f'DocumentRoot "{root}"\n<Directory "{root}">\n'
             "  AllowOverride All\n  Require all granted\n</Directory>\n")
    try:
        with started_nodes(stack, "walk", extra, count=1) as (node,):
            base = f"http://127.0.0.1:{node.port}"
            # the walk still runs for files, and reads the trap under /api
            assert status(base + "/plain.txt") == 200
            assert status(base + "/api/other.txt") == 500
            # the API under /api/v1 is answered without reading it
            assert status(base + "/api/v1/health") == 200
            assert status(base + "/api/v1/creators/00000000-0000-4000-8000-000000000000") == 404
            assert "NoSuchDirective" in node.log()
    finally:
        shutil.rmtree(root, ignore_errors=True)
