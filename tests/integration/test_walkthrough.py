"""The walkthrough `make run` prints works as pasted, and again when pasted
a second time (each paste makes new accounts)."""
import subprocess

from tzstack import STACK


def test_walkthrough_runs_twice(stack):
    text = subprocess.run([STACK, "walkthrough", stack.dir], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    body = text.split("Try it", 1)[1].split("\n", 1)[1].split("The OpenAPI document", 1)[0]
    script = "set -e\n" + "\n".join(line[2:] if line.startswith("  ") else line
                                    for line in body.splitlines())
    for _ in range(2):
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
        out = r.stdout.replace(" ", "")
        assert '"balance":2125,"cashback_balance":500' in out, r.stdout  # the referral bonus
        assert '"balance":9025,"cashback_balance":10' in out, r.stdout  # the fan, after a wallet tip
        assert '"status":"active","source":"wallet"' in out, r.stdout  # the trial ended, paid
        assert '"status":"completed"' in out and '"charges_made":3' in out, \
            r.stdout  # three installments
