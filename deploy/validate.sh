#!/usr/bin/env bash
# Checks the deployment files without a container engine or a cluster (neither runs on the development
# machine): the compose file against Compose's schema, the Kubernetes manifests by building the kustomization
# and checking what a dry run on a server would reject first (selectors, named ports, env references).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The compose file requires an admin token from the environment; any valid-looking value will do for a check.
export OUTBOX_ADMIN_TOKEN="${OUTBOX_ADMIN_TOKEN:-validate-only-0123456789abcdef}"
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
        for required in ("Outbox__ConnectionString", "Kafka__BootstrapServers", "Cluster__SiloName", "Cluster__ClusterId",
                         "Cluster__ServiceId", "Cluster__SiloPort", "Cluster__GatewayPort", "Cluster__AdvertisedAddress"):
            assert required in env, f"{required} is not set"
        # Orleans listens where the configuration says and advertises the pod's own IP.
        container_ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        settings = {k: v for cm in by_kind["ConfigMap"] for k, v in cm["data"].items()}
        assert container_ports.get("silo") == int(settings["Cluster__SiloPort"]), "silo port differs from Cluster__SiloPort"
        assert container_ports.get("gateway") == int(settings["Cluster__GatewayPort"]), "gateway port differs from Cluster__GatewayPort"
        pod_ip = next(e for e in c["env"] if e["name"] == "POD_IP")
        assert pod_ip["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP", "POD_IP is not the pod's IP"
        assert next(e for e in c["env"] if e["name"] == "Cluster__AdvertisedAddress")["value"] == "$(POD_IP)"
for svc in by_kind["Service"]:
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "outbox-relay"}
print(f"validate: {len(docs)} Kubernetes objects ok")
PY

# Compose: every silo advertises its own service name (resolved on the compose network) and exposes the
# Orleans ports its configuration names.
python3 - "$ROOT/docker-compose.yml" <<'PY'
import sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
silos = {n: s for n, s in services.items() if "Outbox__ConnectionString" in s.get("environment", {})}
assert silos, "no silo service"
for name, silo in silos.items():
    env = silo["environment"]
    assert env.get("Cluster__AdvertisedAddress") == name, f"{name} does not advertise its service name"
    assert env.get("Cluster__SiloName") == name, f"{name} is not named after its service"
    exposed = {str(p) for p in silo.get("expose", [])}
    for key in ("Cluster__SiloPort", "Cluster__GatewayPort"):
        assert str(env[key]) in exposed, f"{name} does not expose {key}={env[key]}"
    assert env["Cluster__ClusterId"] and env["Cluster__ServiceId"]
print(f"validate: {len(silos)} compose silos ok")
PY
