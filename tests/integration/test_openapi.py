"""The OpenAPI document is served and lists exactly the routes of the
module's route table (mod_tipzed/mod_tipzed_routes.c)."""
import os
import re

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def route_table():
    with open(os.path.join(REPO, "mod_tipzed", "mod_tipzed_routes.c")) as f:
        src = f.read()
    return {(m.lower(), p) for m, p in re.findall(r'R\("([A-Z]+)", "([^"]+)"', src)}


def test_document_matches_route_table(api):
    r = api.get("/openapi.json")
    assert r.status == 200, r
    doc = r.json
    assert doc["openapi"].startswith("3.1")
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    table = route_table()
    assert table, "no routes parsed"
    assert table - documented == set(), "routes missing from the document"
    assert documented - table == set(), "documented routes the module does not serve"
