"""make install lays the module down like a Debian module, into a staging
tree (DESTDIR) so the test needs no system changes: the module, tipzed.load
naming its dependency on dbd, tipzed.conf (an edited one is kept and the new
one goes beside it as tipzed.conf.dist), tipzedctl with its man page and
the SQL it migrates with, and the operator's dashboard with the files its
page loads; make uninstall takes it all away but the
operator's configuration."""
import os
import re
import subprocess

from tzstack import REPO


def make(*args):
    return subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_install_and_uninstall_into_a_staging_tree(tmp_path):
    dest = str(tmp_path)
    r = make("install", f"DESTDIR={dest}", "PREFIX=/usr/local")
    assert r.returncode == 0, r.stdout + r.stderr
    mods = os.path.join(dest, "etc/apache2/mods-available")
    expected = [
        "usr/lib/apache2/modules/mod_tipzed.so", "etc/apache2/mods-available/tipzed.load",
        "etc/apache2/mods-available/tipzed.conf", "usr/local/bin/tipzedctl",
        "usr/local/share/man/man1/tipzedctl.1", "usr/local/share/tipzed/sql/schema/001_users.sql",
        "usr/local/share/tipzed/sql/functions/10_common.sql"]
    for f in expected:
        assert os.path.isfile(os.path.join(dest, f)), f
    assert os.access(os.path.join(dest, "usr/local/bin/tipzedctl"), os.X_OK)
    load = open(os.path.join(mods, "tipzed.load")).read()
    assert "# Depends: dbd" in load and "LoadModule tipzed_module" in load
    schema = sorted(os.listdir(os.path.join(REPO, "sql/schema")))
    assert sorted(os.listdir(os.path.join(dest, "usr/local/share/tipzed/sql/schema"))) == schema
    # the dashboard: every file, and every file its page loads (Chart.js is
    # Debian's, aliased by the configuration the installed tipzed.conf shows)
    board = os.path.join(dest, "usr/local/share/tipzed/dashboard")
    assert sorted(os.listdir(board)) == sorted(os.listdir(os.path.join(REPO, "dashboard")))
    page = open(os.path.join(board, "index.html")).read()
    loaded = re.findall(r'(?:src|href)="([^"#?]+)"', page)
    assert "app.js" in loaded and "vendor/chart.js" in loaded
    for f in loaded:
        if f != "vendor/chart.js":
            assert os.path.isfile(os.path.join(board, f)), f
    snippet = open(os.path.join(mods, "tipzed.conf")).read()
    assert "# Alias /dashboard/ /usr/local/share/tipzed/dashboard/" in snippet
    assert "# Alias /dashboard/vendor/chart.js /usr/share/javascript/chart.js/chart.min.js" in snippet
    assert "Content-Security-Policy" in snippet and "unsafe-inline" not in snippet
    # tipzedctl answers --help without a database, naming its defaults
    h = subprocess.run([os.path.join(dest, "usr/local/bin/tipzedctl"), "--help"],
                       capture_output=True, text=True, timeout=30)
    assert h.returncode == 0 and "TIPZED_DB" in h.stdout and "/usr/local/share/tipzed/sql" in h.stdout
    # an edited configuration survives a second install
    conf = os.path.join(mods, "tipzed.conf")
    with open(conf, "a") as f:
        f.write("TipzedPlatformFee 10%\n")
    r = make("install", f"DESTDIR={dest}", "PREFIX=/usr/local")
    assert r.returncode == 0 and "kept your" in r.stdout, r.stdout + r.stderr
    assert open(conf).read().endswith("TipzedPlatformFee 10%\n")
    assert os.path.isfile(conf + ".dist")
    r = make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr/local")
    assert r.returncode == 0, r.stdout + r.stderr
    for f in expected:
        if not f.endswith("tipzed.conf"):
            assert not os.path.exists(os.path.join(dest, f)), f
    assert not os.path.exists(board)
    assert os.path.isfile(conf) and not os.path.exists(conf + ".dist")


def test_install_names_its_prefix_in_tipzed_conf_and_ships_the_mail_templates(tmp_path):
    """The Debian package installs with PREFIX=/usr: the dashboard's lines of
    the installed tipzed.conf name that prefix, and the shipped mail
    templates are installed beside the SQL."""
    dest = str(tmp_path)
    r = make("install", f"DESTDIR={dest}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    snippet = open(os.path.join(dest, "etc/apache2/mods-available/tipzed.conf")).read()
    assert "# Alias /dashboard/ /usr/share/tipzed/dashboard/" in snippet
    assert "# <Directory /usr/share/tipzed/dashboard>" in snippet
    assert "/usr/local" not in snippet
    mail = os.path.join(dest, "usr/share/tipzed/mail")
    assert sorted(os.listdir(mail)) == sorted(os.listdir(os.path.join(REPO, "conf/mail")))
    r = make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert r.returncode == 0 and not os.path.exists(os.path.join(dest, "usr/share/tipzed"))
