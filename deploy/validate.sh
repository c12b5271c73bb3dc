#!/usr/bin/env bash
# Checks the deployment files without a container engine or a cluster (neither runs on the development
# machine): the compose file against Compose's schema, the Kubernetes manifests by building the kustomization
# and checking what a dry run on a server would reject first (selectors, named ports, env references), and what the
# silo needs of them: Orleans' Kubernetes hosting (pod labels, downward API, RBAC of its pod watcher) and mutual TLS
# (certificate files from a mounted Secret).
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
settings = {k: v for cm in by_kind["ConfigMap"] for k, v in cm["data"].items()}
for sts in by_kind["StatefulSet"]:
    spec = sts["spec"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()), "selector does not match the pod labels"
    assert any(s["metadata"]["name"] == spec["serviceName"] and s["spec"].get("clusterIP") == "None" for s in by_kind["Service"]), "serviceName is no headless Service"
    # Orleans' Kubernetes hosting: pods labelled with the cluster's ids, a service account allowed what its pod watcher does.
    assert settings.get("Cluster__KubernetesHosting") == "true", "Cluster__KubernetesHosting is not on"
    assert labels.get("orleans/clusterId") == settings["Cluster__ClusterId"], "pod label orleans/clusterId differs from Cluster__ClusterId"
    assert labels.get("orleans/serviceId") == settings["Cluster__ServiceId"], "pod label orleans/serviceId differs from Cluster__ServiceId"
    account = pod["spec"].get("serviceAccountName")
    assert any(a["metadata"]["name"] == account for a in by_kind.get("ServiceAccount", [])), f"service account {account} is not defined"
    bindings = [b for b in by_kind.get("RoleBinding", []) if any(s["kind"] == "ServiceAccount" and s["name"] == account for s in b["subjects"])]
    verbs = {v for b in bindings for r in by_kind.get("Role", []) if r["metadata"]["name"] == b["roleRef"]["name"]
             for rule in r["rules"] if "pods" in rule["resources"] and "" in rule["apiGroups"] for v in rule["verbs"]}
    needed = {"get", "list", "watch", "patch"} | ({"delete"} if settings.get("Cluster__Kubernetes__DeleteDefunctSiloPods") == "true" else set())
    assert needed <= verbs, f"the silos' role lacks {sorted(needed - verbs)} on pods"
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    for c in pod["spec"]["containers"]:
        ports = {p["name"] for p in c["ports"]}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe]["httpGet"]["port"] in ports, f"{probe} uses an unknown port"
        assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready" and c["livenessProbe"]["httpGet"]["path"] == "/health/live"
        names = [e["name"] for e in c["env"]]
        for i, e in enumerate(c["env"]):
            for ref in [w[2:-1] for w in str(e.get("value", "")).split() if w.startswith("$(")]:
                assert ref in names[:i], f"{e['name']} refers to {ref} before it is defined"
        env = set(names) | config | secret
        for required in ("Outbox__ConnectionString", "Kafka__BootstrapServers", "Cluster__ClusterId",
                         "Cluster__ServiceId", "Cluster__SiloPort", "Cluster__GatewayPort"):
            assert required in env, f"{required} is not set"
        # The silo is named after its pod (the pod watcher matches them by name): a configured name is refused.
        assert "Cluster__SiloName" not in env, "Cluster__SiloName is set, but Kubernetes hosting names the silo after its pod"
        downward = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"] if "fieldRef" in e.get("valueFrom", {})}
        assert downward.get("POD_NAME") == "metadata.name", "POD_NAME is not the pod's name"
        assert downward.get("POD_NAMESPACE") == "metadata.namespace", "POD_NAMESPACE is not the pod's namespace"
        assert downward.get("POD_IP") == "status.podIP", "POD_IP is not the pod's IP"
        # Orleans listens where the configuration says.
        container_ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert container_ports.get("silo") == int(settings["Cluster__SiloPort"]), "silo port differs from Cluster__SiloPort"
        assert container_ports.get("gateway") == int(settings["Cluster__GatewayPort"]), "gateway port differs from Cluster__GatewayPort"
        # Mutual TLS: every file Cluster__Tls__* names comes from a Secret mounted where it says.
        assert settings.get("Cluster__Tls__Enabled") == "true", "Cluster__Tls__Enabled is not on"
        mounts = {m["mountPath"].rstrip("/"): m["name"] for m in c.get("volumeMounts", [])}
        for key in ("Cluster__Tls__CertificatePath", "Cluster__Tls__KeyPath", "Cluster__Tls__TrustedCaPath"):
            folder, file = settings[key].rsplit("/", 1)
            assert folder in mounts, f"{key}={settings[key]} is not under a volume mount"
            volume = volumes[mounts[folder]]
            assert "secret" in volume, f"{key} does not come from a Secret"
            assert any(i["path"] == file for i in volume["secret"]["items"]), f"{key}: the Secret volume has no {file}"
for svc in by_kind["Service"]:
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "outbox-relay"}
print(f"validate: {len(docs)} Kubernetes objects ok")
PY

# Compose: every silo advertises its own service name (resolved on the compose network), exposes the Orleans ports
# its configuration names, and runs mutual TLS on the generated certificates.
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
    # Mutual TLS from the files deploy/tls/generate-certs.sh writes, mounted read-only where the settings say.
    assert env.get("Cluster__Tls__Enabled") == "true", f"{name}: Cluster__Tls__Enabled is not on"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in silo.get("volumes", [])}
    for key, generated in (("Cluster__Tls__CertificatePath", "cluster.crt"), ("Cluster__Tls__KeyPath", "cluster.key"), ("Cluster__Tls__TrustedCaPath", "ca.crt")):
        assert mounts.get(env[key]) == f"./deploy/tls/certs/{generated}", f"{name}: {key}={env[key]} is not deploy/tls/certs/{generated}"
    assert not any(source.endswith("ca.key") for source in mounts.values()), f"{name} mounts the CA's key"
print(f"validate: {len(silos)} compose silos ok")
PY
