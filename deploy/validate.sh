#!/usr/bin/env bash
# Checks the deployment files without a container engine or a cluster (neither runs on the development
# machine): the compose file against Compose's schema, the Kubernetes manifests by building the kustomization
# and checking what a dry run on a server would reject first (selectors, named ports, env references).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if docker compose version >/dev/null 2>&1; then
  docker compose -f "$ROOT/docker-compose.yml" config -q
elif command -v docker-compose >/dev/null; then
  docker-compose -f "$ROOT/docker-compose.yml" config -q
else
  echo "validate: no docker compose / docker-compose; compose file not checked" >&2
fi
echo "validate: docker-compose.yml ok"

manifests="$(mktemp)"
trap 'rm -f "$manifests"' EXIT
kubectl kustomize "$ROOT/deploy/kubernetes" >"$manifests"
python3 - "$manifests" "$ROOT/deploy/kubernetes/secret.example.yaml" <<'PY'
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
by_kind = {}
for d in docs:
    assert d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), d
    by_kind.setdefault(d["kind"], []).append(d)
config = {k for c in by_kind["ConfigMap"] for k in c["data"]}
secret = {k for s in by_kind["Secret"] for k in s["stringData"]}
for sts in by_kind["StatefulSet"]:
    spec = sts["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()), "selector does not match the pod labels"
    assert any(s["metadata"]["name"] == spec["serviceName"] and s["spec"].get("clusterIP") == "None" for s in by_kind["Service"]), "serviceName is no headless Service"
    for c in spec["template"]["spec"]["containers"]:
        ports = {p["name"] for p in c["ports"]}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe]["httpGet"]["port"] in ports, f"{probe} uses an unknown port"
        assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready" and c["livenessProbe"]["httpGet"]["path"] == "/health/live"
        names = [e["name"] for e in c["env"]]
        for i, e in enumerate(c["env"]):
            for ref in [w[2:-1] for w in str(e.get("value", "")).split() if w.startswith("$(")]:
                assert ref in names[:i], f"{e['name']} refers to {ref} before it is defined"
        env = set(names) | config | secret
        for required in ("Outbox__ConnectionString", "Kafka__BootstrapServers", "Cluster__Mode", "Cluster__SiloName", "Cluster__InstanceId"):
            assert required in env, f"{required} is not set"
for svc in by_kind["Service"]:
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "outbox-relay"}
print(f"validate: {len(docs)} Kubernetes objects ok")
PY
