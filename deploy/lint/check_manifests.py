"""Cross-checks for deploy/kubernetes that no schema can express.

Usage: python check_manifests.py KUBERNETES_DIR OUT_DIR
Writes OUT_DIR/gateway.yml, OUT_DIR/jwks.json (the ConfigMap's files, for `gateway check`)
and OUT_DIR/secret.env (the Secret's placeholder values). Prints one line per failed
check and exits 1 if any failed. Needs PyYAML (installed with kubernetes-validate).
"""
import hashlib
import os
import re
import sys

import yaml


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def duration_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def port_of(address):
    return int(str(address).rsplit(":", 1)[1])


def main(kdir, out):
    errors = []

    def check(ok, message):
        if not ok:
            errors.append(message)

    # kustomization.yaml lists exactly the manifests in the directory.
    kust = load_all(os.path.join(kdir, "kustomization.yaml"))[0]
    check(kust.get("kind") == "Kustomization", "kustomization.yaml: kind is not Kustomization")
    listed = set(kust.get("resources", []))
    present = {f for f in os.listdir(kdir) if f.endswith(".yaml") and f != "kustomization.yaml"}
    check(listed == present, f"kustomization.yaml resources {sorted(listed)} != files {sorted(present)}")

    docs = {}
    tls_secrets = []
    for name in sorted(present):
        for d in load_all(os.path.join(kdir, name)):
            if d["kind"] == "Secret" and d.get("type") == "kubernetes.io/tls":
                tls_secrets.append(d)  # the listener's certificate, checked below
            else:
                docs[d["kind"]] = d
    for kind in ["ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler",
                 "PodDisruptionBudget"]:
        check(kind in docs, f"no {kind} manifest")
    if errors:
        return errors

    cm, secret, dep = docs["ConfigMap"], docs["Secret"], docs["Deployment"]
    os.makedirs(out, exist_ok=True)
    for key, text in cm["data"].items():
        with open(os.path.join(out, key), "w", encoding="utf-8") as f:
            f.write(text)
    config = yaml.safe_load(cm["data"]["gateway.yml"])

    # checksum/config follows configmap.yaml, so a config edit rolls the pods.
    with open(os.path.join(kdir, "configmap.yaml"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    pod = dep["spec"]["template"]
    annotated = pod["metadata"].get("annotations", {}).get("checksum/config")
    check(annotated == digest,
          f"deployment.yaml: checksum/config is {annotated!r}; configmap.yaml changed, set it to \"{digest}\"")

    spec = pod["spec"]
    (container,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    listen_tls = config["listen"].get("tls")
    public = "https" if listen_tls else "http"
    check(ports.get(public) == port_of(config["listen"]["address"]),
          f"container port `{public}` differs from gateway.yml listen.address")
    if listen_tls:
        # The certificate and key come from a kubernetes.io/tls Secret mounted where
        # listen.tls reads them.
        mounts = {v["name"]: v["mountPath"] for v in container.get("volumeMounts", [])}
        volumes = {v["name"]: v.get("secret", {}).get("secretName") for v in spec.get("volumes", [])}
        names = {s["metadata"]["name"] for s in tls_secrets}
        for key, file in [("certificate", "tls.crt"), ("private_key", "tls.key")]:
            path = str(listen_tls.get(key, ""))
            ok = any(volumes.get(v) in names and path == mounts[v].rstrip("/") + "/" + file for v in mounts)
            check(ok, f"listen.tls.{key} {path!r} is not {file} of a mounted kubernetes.io/tls Secret")
        with open(os.path.join(out, "tls-paths"), "w", encoding="utf-8") as f:
            f.write(os.path.dirname(str(listen_tls.get("certificate", ""))) + "\n")
    check(ports.get("admin") == port_of(config["admin"]["address"]),
          "container port `admin` differs from gateway.yml admin.address")
    check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probe is not /healthz")
    check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probe is not /readyz")
    for probe in ("livenessProbe", "readinessProbe"):
        check(container[probe]["httpGet"]["port"] == "admin", f"{probe} is not on the admin port")

    # Grace period covers the preStop sleep plus the whole drain.
    drain = duration_seconds(config.get("limits", {}).get("drain_timeout", "30s"))
    pre = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    sleep = int(pre[1]) if len(pre) == 2 and pre[0] == "sleep" else 0
    grace = spec["terminationGracePeriodSeconds"]
    check(grace > drain + sleep,
          f"terminationGracePeriodSeconds {grace} must exceed preStop {sleep}s + drain_timeout {drain}s")

    # Hardening the issue asks for.
    sc = container["securityContext"]
    check(spec["securityContext"].get("runAsNonRoot") is True, "pod runAsNonRoot is not true")
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true")
    check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities are not dropped (drop: [ALL])")
    res = container.get("resources", {})
    check("requests" in res and "limits" in res, "resources need requests and limits")

    # Every secret_env the config reads comes from the Secret the pod imports.
    wanted = {i["secret_env"] for i in config.get("issuers", []) if "secret_env" in i}
    values = {**secret.get("data", {}), **secret.get("stringData", {})}
    imported = {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
    check(secret["metadata"]["name"] in imported, "the Deployment does not import the Secret (envFrom)")
    for name in sorted(wanted - set(values)):
        errors.append(f"secret_env {name} has no entry in secret.yaml")
    with open(os.path.join(out, "secret.env"), "w", encoding="utf-8") as f:
        for k, v in sorted(secret.get("stringData", {}).items()):
            f.write(f"{k}={v}\n")

    # Service, HPA and PDB select / target the Deployment.
    labels = pod["metadata"]["labels"]
    for kind, sel in [("Service", docs["Service"]["spec"]["selector"]),
                      ("PodDisruptionBudget", docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"])]:
        check(all(labels.get(k) == v for k, v in sel.items()), f"{kind} selector does not match the pods")
    check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "Deployment selector does not match its pods")
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    check(hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"], "HPA does not target the Deployment")
    check(hpa["minReplicas"] >= 2, "HPA minReplicas below 2 would leave one replica during disruptions")
    check(any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["metrics"]),
          "HPA does not scale on CPU")
    check("cpu" in res.get("requests", {}), "HPA CPU utilization needs a CPU request")
    svc_target = docs["Service"]["spec"]["ports"][0]["targetPort"]
    check(svc_target == public, f"Service targets something other than the {public} port")
    return errors


if __name__ == "__main__":
    problems = main(sys.argv[1], sys.argv[2])
    for p in problems:
        print(f"deploy/kubernetes: {p}")
    sys.exit(1 if problems else 0)
