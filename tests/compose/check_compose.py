#!/usr/bin/env python3
"""Static checks of the docker-compose demo stack (no Docker engine needed).

Checks, from the repo root:
  * `docker-compose -f docker-compose.yaml config` accepts the file;
  * every image tag is pinned (no `latest`, no missing tag), also in
    demo/Dockerfile's FROM lines, and the tags are the versions whose
    configuration keys tests/compose/schemas.py encodes;
  * every bind-mounted host path exists (a file where a file is mounted),
    every named volume is declared, every file a config names resolves
    (Prometheus rule_files, Grafana dashboard provider paths, --config flags);
  * the demo services agree with the contract and with each other: PORT ==
    published container port == healthcheck port == Prometheus target port,
    OTEL_SERVICE_NAME == Prometheus job, every URL in the environment names a
    compose service on the port it listens on (and is in depends_on);
  * with --binary NAME=PATH: each binary's --help names every env var compose
    sets for it, and --list-routes lists the healthcheck route;
  * the Collector, Tempo, Loki and Grafana datasource files use only keys the
    pinned versions accept (allowlists in schemas.py), and their cross
    references hold (pipelines -> components, exporters -> compose services
    and the ports Tempo/Loki listen on, Tempo remote_write -> Prometheus,
    datasource URLs and UIDs).

--self-test copies the files to a temporary directory, checks that the copy
passes, then applies one mutation at a time (unknown key, missing mount,
unpinned image, wrong port, ...) and checks that each one is caught.

Exit status: 0 all checks passed, 1 a check failed.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

try:
    import yaml
except ImportError:  # pragma: no cover
    print("FAIL: python3-yaml is missing (scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(1)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemas  # noqa: E402
from schemas import ANY, Components, ListOf, MapOf  # noqa: E402

COMPOSE_FILE = "docker-compose.yaml"
DOCKERFILE_DEFAULT = "demo/Dockerfile"

# image repository -> role, for the infrastructure services
ROLES = {
    "otel/opentelemetry-collector-contrib": "collector",
    "grafana/tempo": "tempo",
    "grafana/loki": "loki",
    "prom/prometheus": "prometheus",
    "grafana/grafana": "grafana",
    "postgres": "postgres",
}
# Where each role's config file is named on the command line.
CONFIG_FLAGS = {
    "collector": r"^--config=(.+)$",
    "tempo": r"^-config\.file=(.+)$",
    "loki": r"^-config\.file=(.+)$",
    "prometheus": r"^--config\.file=(.+)$",
}
PROMETHEUS_PORT = 9090
POSTGRES_PORT = 5432
GRAFANA_DS_DIR = "/etc/grafana/provisioning/datasources"
GRAFANA_DASH_DIR = "/etc/grafana/provisioning/dashboards"
REQUIRED_DATASOURCE_UIDS = {"prometheus": "prometheus", "tempo": "tempo", "loki": "loki"}
# An unescaped $ in a Grafana provisioning value is expanded from Grafana's
# environment ($VAR, ${VAR}); Grafana's own macros must be written $$...
UNESCAPED_DOLLAR = re.compile(r"(?<!\$)\$(?=\{|[A-Za-z_])")
URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


# --------------------------------------------------------------------------
# helpers

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_SafeLoader)


def walk(node, schema, path, errors, where):
    """Report every key of node that schema does not allow."""
    if schema is ANY or node is None:
        return
    if isinstance(schema, dict):
        if not isinstance(node, dict):
            errors.append(f"{where}: {path or '<top>'}: expected a mapping, got {type(node).__name__}")
            return
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in schema:
                hint = schemas.HINTS.get(sub) or schemas.HINTS.get(re.sub(r"^(\w+)\.([\w-]+)/[^.]*", r"\1.\2", sub))
                errors.append(f"{where}: unknown key '{sub}' (not accepted by the pinned version)"
                              + (f": {hint}" if hint else ""))
                continue
            walk(value, schema[key], sub, errors, where)
    elif isinstance(schema, ListOf):
        if not isinstance(node, list):
            errors.append(f"{where}: {path}: expected a list")
            return
        for i, item in enumerate(node):
            walk(item, schema.item, f"{path}[{i}]", errors, where)
    elif isinstance(schema, MapOf):
        if not isinstance(node, dict):
            errors.append(f"{where}: {path}: expected a mapping")
            return
        for key, value in node.items():
            walk(value, schema.value, f"{path}.{key}", errors, where)
    elif isinstance(schema, Components):
        if not isinstance(node, dict):
            errors.append(f"{where}: {path}: expected a mapping")
            return
        for cid, value in node.items():
            ctype = str(cid).split("/", 1)[0]
            sub = f"{path}.{cid}"
            if ctype not in schema.types:
                hint = schemas.HINTS.get(f"{path}.{ctype}")
                errors.append(f"{where}: unknown {path[:-1] if path.endswith('s') else path} type '{ctype}' in '{sub}'"
                              + (f": {hint}" if hint else ""))
                continue
            walk(value, schema.types[ctype], sub, errors, where)
    else:  # pragma: no cover
        raise TypeError(schema)


def split_image(image):
    """'repo[:tag][@digest]' -> (repo, tag or None, digest or None)."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag, digest
    return image, None, digest


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


def mounts_of(svc):
    """[(kind, source, target, read_only)] with kind 'bind' or 'volume'."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            kind = v.get("type", "volume")
            out.append((kind, str(v.get("source", "")), str(v.get("target", "")), bool(v.get("read_only"))))
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            out.append(("volume", "", parts[0], False))
            continue
        src, dst = parts[0], parts[1]
        ro = len(parts) > 2 and "ro" in parts[2].split(",")
        kind = "bind" if src.startswith((".", "/", "~")) else "volume"
        out.append((kind, src, dst, ro))
    return out


def ports_of(svc):
    """[(host_ip, host_port, container_port)] as strings."""
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            out.append((str(p.get("host_ip", "")), str(p.get("published", "")), str(p.get("target", ""))))
            continue
        s = str(p).split("/", 1)[0]
        parts = s.split(":")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append(("", parts[0], parts[1]))
        else:
            out.append(("", "", parts[0]))
    return out


def command_list(svc):
    cmd = svc.get("command")
    if cmd is None:
        return []
    if isinstance(cmd, str):
        return shlex.split(cmd)
    return [str(c) for c in cmd]


def healthcheck_text(svc):
    hc = svc.get("healthcheck") or {}
    test = hc.get("test")
    if test is None:
        return ""
    return " ".join(str(t) for t in test) if isinstance(test, list) else str(test)


def host_port(endpoint, default_port=None):
    """'host:port', 'scheme://host:port/path' -> (host, port:int|None, path)."""
    if URL_RE.match(endpoint):
        u = urllib.parse.urlsplit(endpoint)
        return u.hostname, u.port or default_port, u.path
    host, _, port = endpoint.rpartition(":")
    if not host:
        return endpoint, default_port, ""
    return host, int(port) if port.isdigit() else None, ""


def under(path, prefix):
    path, prefix = os.path.normpath(path), os.path.normpath(prefix)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


# --------------------------------------------------------------------------
# Dockerfile

class Dockerfile:
    def __init__(self, path):
        self.path = path
        self.stages = {}      # name -> {"from": image, "entrypoint": [...], "expose": [...], "env": {}}
        self.external = []    # (line no, image) of FROM lines that name an image
        self.build_targets = set()
        args = {}
        current = None
        text = open(path, encoding="utf-8").read()
        # join continuation lines
        logical, buf, start = [], "", 0
        for i, raw in enumerate(text.splitlines(), 1):
            line = raw.rstrip()
            if not buf:
                start = i
            if line.lstrip().startswith("#") and not buf:
                continue
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            if buf.strip():
                logical.append((start, buf.strip()))
            buf = ""
        for lineno, line in logical:
            word, _, rest = line.partition(" ")
            word = word.upper()
            if word == "ARG":
                name, _, default = rest.strip().partition("=")
                if current is None:
                    args[name.strip()] = default.strip()
            elif word == "FROM":
                m = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
                image = re.sub(r"\$\{?(\w+)\}?", lambda mm: args.get(mm.group(1), mm.group(0)), m.group(1))
                current = m.group(2) or f"#{len(self.stages)}"
                self.stages[current] = {"from": image, "entrypoint": [], "expose": [], "env": {}}
                if image not in self.stages or image == current:
                    self.external.append((lineno, image))
            elif current is None:
                continue
            elif word == "ENTRYPOINT":
                try:
                    self.stages[current]["entrypoint"] = yaml.safe_load(rest)
                except yaml.YAMLError:
                    self.stages[current]["entrypoint"] = rest.split()
            elif word == "EXPOSE":
                self.stages[current]["expose"] += [p.split("/")[0] for p in rest.split()]
            elif word == "ENV":
                for k, v in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", rest):
                    self.stages[current]["env"][k] = v.strip('"')
            elif word == "RUN":
                m = re.search(r"--target\s+((?:[\w-]+\s*)+)", rest)
                if m:
                    self.build_targets.update(re.findall(r"[\w-]+", m.group(1)))

    def resolve(self, stage, key):
        """Follow FROM <stage> chains for entrypoint/expose/env."""
        seen = set()
        while stage in self.stages and stage not in seen:
            seen.add(stage)
            value = self.stages[stage][key]
            if value:
                return value
            stage = self.stages[stage]["from"]
        return [] if key != "env" else {}

    def env(self, stage):
        chain, seen = [], set()
        while stage in self.stages and stage not in seen:
            seen.add(stage)
            chain.append(self.stages[stage]["env"])
            stage = self.stages[stage]["from"]
        out = {}
        for e in reversed(chain):
            out.update(e)
        return out


# --------------------------------------------------------------------------
# the checker

class Checker:
    def __init__(self, root, docker_compose=None, binaries=None, run_compose=True, timeout=15):
        self.root = os.path.abspath(root)
        self.docker_compose = docker_compose
        self.binaries = binaries or {}
        self.run_compose = run_compose
        self.timeout = timeout
        self.errors = []
        self.notes = []

    def err(self, msg):
        self.errors.append(msg)

    def host(self, rel):
        return os.path.normpath(os.path.join(self.root, os.path.expanduser(rel)))

    # ---- entry point
    def run(self):
        path = self.host(COMPOSE_FILE)
        if not os.path.isfile(path):
            self.err(f"{COMPOSE_FILE} not found in {self.root}")
            return self.errors
        try:
            self.compose = load_yaml(path) or {}
        except yaml.YAMLError as e:
            self.err(f"{COMPOSE_FILE}: not valid YAML: {e}")
            return self.errors
        self.services = self.compose.get("services") or {}
        self.roles = {}
        for name, svc in self.services.items():
            if svc.get("image"):
                repo = split_image(str(svc["image"]))[0]
                if repo in ROLES:
                    self.roles[ROLES[repo]] = name
        self.apps = [n for n, s in self.services.items() if s.get("build")]
        self.configs = {}  # role -> (host path, parsed)
        steps = [
            self.check_compose_config, self.check_images, self.check_dockerfile,
            self.check_mounts, self.check_config_files, self.check_prometheus,
            self.check_apps, self.check_binaries, self.check_collector,
            self.check_tempo, self.check_loki, self.check_grafana,
        ]
        for step in steps:
            try:
                step()
            except Exception as e:  # a broken file must fail the test, not crash it unreadably
                self.err(f"{step.__name__}: {type(e).__name__}: {e}")
        return self.errors

    # ---- docker-compose config
    def check_compose_config(self):
        if not self.run_compose:
            return
        exe = self.docker_compose or shutil.which("docker-compose")
        if not exe:
            self.err("docker-compose not found (scripts/install-deps.sh installs Debian's docker-compose)")
            return
        env = dict(os.environ)
        env.pop("COMPOSE_FILE", None)
        try:
            p = subprocess.run([exe, "-f", COMPOSE_FILE, "config", "-q"], cwd=self.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.err("docker-compose config timed out")
            return
        if p.returncode != 0:
            self.err(f"docker-compose -f {COMPOSE_FILE} config failed (exit {p.returncode}): "
                     + (p.stderr.strip() or p.stdout.strip()).replace("\n", " | "))

    # ---- images
    def check_images(self):
        if not self.services:
            self.err(f"{COMPOSE_FILE}: no services")
        for name, svc in self.services.items():
            image = svc.get("image")
            if not image:
                if not svc.get("build"):
                    self.err(f"service {name}: neither image nor build")
                continue
            repo, tag, digest = split_image(str(image))
            if svc.get("build"):
                continue  # the local name of an image built here; its bases are checked in the Dockerfile
            if not tag and not digest:
                self.err(f"service {name}: image '{image}' has no tag (pin an exact version)")
            elif tag == "latest" or (tag and not re.search(r"\d", tag)):
                self.err(f"service {name}: image '{image}' is not pinned to a version")
            pinned = schemas.PINNED.get(repo)
            if pinned and tag != pinned:
                self.err(f"service {name}: image '{image}' differs from the version whose config keys "
                         f"tests/compose/schemas.py encodes ({repo}:{pinned}): re-check the schema against "
                         f"that version's docs and update PINNED")
        for role in ("collector", "tempo", "loki", "prometheus", "grafana", "postgres"):
            if role not in self.roles:
                self.err(f"{COMPOSE_FILE}: no service runs the {role} image "
                         f"({[k for k, v in ROLES.items() if v == role][0]})")

    def check_dockerfile(self):
        self.dockerfiles = {}
        for name in self.apps:
            build = self.services[name]["build"]
            if isinstance(build, str):
                build = {"context": build}
            ctx = self.host(build.get("context", "."))
            df = os.path.normpath(os.path.join(ctx, build.get("dockerfile", "Dockerfile")))
            if not os.path.isfile(df):
                self.err(f"service {name}: Dockerfile {os.path.relpath(df, self.root)} not found")
                continue
            if df not in self.dockerfiles:
                d = self.dockerfiles[df] = Dockerfile(df)
                rel = os.path.relpath(df, self.root)
                bases = set()
                for lineno, image in d.external:
                    repo, tag, digest = split_image(image)
                    if "$" in image:
                        self.err(f"{rel}:{lineno}: FROM {image}: unresolved build argument")
                    elif not tag and not digest:
                        self.err(f"{rel}:{lineno}: FROM {image} has no tag (pin an exact version)")
                    elif tag == "latest" or (tag and not re.search(r"\d", tag)):
                        self.err(f"{rel}:{lineno}: FROM {image} is not pinned to a version")
                    bases.add(image)
                if len(bases) > 1:
                    self.err(f"{rel}: build and runtime stages use different base images {sorted(bases)}: "
                             f"the runtime libraries must match the ones the build linked against")
            d = self.dockerfiles[df]
            target = build.get("target")
            if not target:
                self.err(f"service {name}: build has no target (demo/Dockerfile has one stage per binary)")
                continue
            if target not in d.stages:
                self.err(f"service {name}: build target '{target}' is not a stage of "
                         f"{os.path.relpath(df, self.root)}")
                continue
            ep = d.resolve(target, "entrypoint")
            if not ep:
                self.err(f"service {name}: stage '{target}' has no ENTRYPOINT")
                continue
            binary = os.path.basename(ep[0])
            self.services[name]["_binary"] = binary
            self.services[name]["_dockerfile"] = d
            self.services[name]["_stage"] = target
            if d.build_targets and binary not in d.build_targets:
                self.err(f"service {name}: {os.path.relpath(df, self.root)} runs {binary} but its "
                         f"cmake --build --target list does not build it")

    # ---- mounts and referenced files
    def container_to_host(self, svc_name, cpath):
        """Map a container path to ('bind', host path) / ('volume', name) / (None, None)."""
        best = None
        for kind, src, dst, _ in mounts_of(self.services[svc_name]):
            if under(cpath, dst) and (best is None or len(dst) > len(best[2])):
                best = (kind, src, dst)
        if best is None:
            return None, None
        kind, src, dst = best
        if kind == "bind":
            rel = os.path.relpath(os.path.normpath(cpath), os.path.normpath(dst))
            return "bind", os.path.normpath(os.path.join(self.host(src), rel))
        return "volume", src

    def check_mounts(self):
        declared = set((self.compose.get("volumes") or {}).keys())
        used = set()
        for name, svc in self.services.items():
            for kind, src, dst, _ in mounts_of(svc):
                if kind == "bind":
                    hp = self.host(src)
                    if not os.path.exists(hp):
                        self.err(f"service {name}: bind mount source {src} does not exist "
                                 f"(Docker would create an empty directory at {dst})")
                    elif os.path.splitext(dst)[1] and os.path.isdir(hp):
                        self.err(f"service {name}: {src} is a directory but is mounted on the file path {dst}")
                    elif os.path.isfile(hp) and not os.path.splitext(dst)[1] and not os.path.splitext(src)[1]:
                        pass
                elif src:
                    used.add(src)
                    if src not in declared:
                        self.err(f"service {name}: named volume '{src}' is not declared under top-level volumes")
        for v in sorted(declared - used):
            self.err(f"{COMPOSE_FILE}: volume '{v}' is declared but no service mounts it")

    def config_path(self, role):
        """Host path of the config file a role's command names (and check it resolves)."""
        name = self.roles.get(role)
        if not name:
            return None, None
        pattern = CONFIG_FLAGS[role]
        cpath = None
        for arg in command_list(self.services[name]):
            m = re.match(pattern, arg)
            if m:
                cpath = m.group(1)
        if cpath is None:
            self.err(f"service {name}: command does not name its config file ({pattern})")
            return None, None
        kind, hp = self.container_to_host(name, cpath)
        if kind != "bind":
            self.err(f"service {name}: config file {cpath} is not bind-mounted from the repo")
            return cpath, None
        if not os.path.isfile(hp):
            self.err(f"service {name}: config file {cpath} maps to {os.path.relpath(hp, self.root)}, which does not exist")
            return cpath, None
        return cpath, hp

    def check_config_files(self):
        for role in CONFIG_FLAGS:
            cpath, hp = self.config_path(role)
            if hp:
                try:
                    self.configs[role] = (cpath, hp, load_yaml(hp) or {})
                except yaml.YAMLError as e:
                    self.err(f"{os.path.relpath(hp, self.root)}: not valid YAML: {e}")

    # ---- prometheus
    def check_prometheus(self):
        name = self.roles.get("prometheus")
        if "prometheus" not in self.configs:
            return
        cpath, hp, cfg = self.configs["prometheus"]
        rel = os.path.relpath(hp, self.root)
        cmd = command_list(self.services[name])
        if "--web.enable-remote-write-receiver" not in cmd:
            self.err(f"service {name}: Tempo remote-writes to Prometheus but --web.enable-remote-write-receiver is not set")
        if not any(re.match(r"^--enable-feature=.*\bexemplar-storage\b", c) for c in cmd):
            self.err(f"service {name}: --enable-feature=exemplar-storage is not set (exemplars link metrics to traces)")
        for rf in cfg.get("rule_files") or []:
            crf = rf if rf.startswith("/") else os.path.join(os.path.dirname(cpath), rf)
            kind, rhp = self.container_to_host(name, crf)
            if kind != "bind":
                self.err(f"{rel}: rule file {rf} ({crf} in the container) is not mounted into service {name}")
            elif not os.path.isfile(rhp):
                self.err(f"{rel}: rule file {rf} maps to {os.path.relpath(rhp, self.root)}, which does not exist")
        scraped = set()
        for job in cfg.get("scrape_configs") or []:
            jname = job.get("job_name")
            for sc in job.get("static_configs") or []:
                for target in sc.get("targets") or []:
                    host, port, _ = host_port(str(target))
                    if host not in self.services:
                        self.err(f"{rel}: job {jname} target {target}: '{host}' is not a compose service")
                        continue
                    scraped.add(host)
                    env = env_of(self.services[host])
                    if env.get("PORT") and str(port) != env["PORT"]:
                        self.err(f"{rel}: job {jname} target {target}: service {host} listens on PORT={env['PORT']}")
                    if env.get("OTEL_SERVICE_NAME") and jname != env["OTEL_SERVICE_NAME"]:
                        self.err(f"{rel}: job {jname} scrapes {host}, whose OTEL_SERVICE_NAME is "
                                 f"{env['OTEL_SERVICE_NAME']} (the job label must be the service name)")
        for app in self.apps:
            if env_of(self.services[app]).get("PORT") and app not in scraped:
                self.err(f"{rel}: service {app} serves /metrics on PORT but no scrape job targets it")

    # ---- demo services
    def listen_port(self, service):
        """The port a compose service listens on inside the network, if known."""
        env = env_of(self.services[service])
        if env.get("PORT"):
            return {int(env["PORT"])}
        role = {v: k for k, v in self.roles.items()}.get(service)
        if role == "postgres":
            return {POSTGRES_PORT}
        if role == "prometheus":
            return {PROMETHEUS_PORT}
        if role == "collector" and "collector" in self.configs:
            return set(self.collector_receiver_ports().values())
        if role in ("tempo", "loki") and role in self.configs:
            port = (self.configs[role][2].get("server") or {}).get("http_listen_port")
            ports = {int(port)} if port else set()
            if role == "tempo":
                ports |= set(self.tempo_receiver_ports().values())
            return ports
        return None

    def collector_receiver_ports(self):
        out = {}
        cfg = self.configs.get("collector", (None, None, {}))[2]
        for rid, rcfg in (cfg.get("receivers") or {}).items():
            if str(rid).split("/")[0] != "otlp":
                continue
            for proto, default in (("grpc", 4317), ("http", 4318)):
                if proto in ((rcfg or {}).get("protocols") or {}):
                    ep = (((rcfg or {}).get("protocols") or {}).get(proto) or {}).get("endpoint") or f"localhost:{default}"
                    out[proto] = host_port(str(ep), default)[1]
        return out

    def tempo_receiver_ports(self):
        out = {}
        cfg = self.configs.get("tempo", (None, None, {}))[2]
        protos = ((((cfg.get("distributor") or {}).get("receivers") or {}).get("otlp") or {}).get("protocols") or {})
        for proto, default in (("grpc", 4317), ("http", 4318)):
            if proto in protos:
                ep = (protos.get(proto) or {}).get("endpoint") or f"0.0.0.0:{default}"
                out[proto] = host_port(str(ep), default)[1]
        return out

    def check_url_value(self, name, key, value, svc):
        u = urllib.parse.urlsplit(value)
        host, port = u.hostname, u.port
        if host not in self.services:
            self.err(f"service {name}: {key}={value}: '{host}' is not a compose service")
            return
        if host == name:
            self.err(f"service {name}: {key} points at itself")
        scheme_port = {"http": 80, "https": 443, "postgresql": POSTGRES_PORT, "postgres": POSTGRES_PORT}
        port = port or scheme_port.get(u.scheme)
        ports = self.listen_port(host)
        if ports is not None and port not in ports:
            self.err(f"service {name}: {key}={value}: service {host} listens on {sorted(ports)}, not {port}")
        if key == "OTEL_EXPORTER_OTLP_ENDPOINT":
            if host != self.roles.get("collector"):
                self.err(f"service {name}: OTEL_EXPORTER_OTLP_ENDPOINT should name the Collector service")
            elif port != self.collector_receiver_ports().get("http"):
                self.err(f"service {name}: OTEL_EXPORTER_OTLP_ENDPOINT port {port} is not the Collector's "
                         f"OTLP/HTTP receiver port {self.collector_receiver_ports().get('http')}")
        if u.scheme.startswith("postgres"):
            pg = env_of(self.services[host])
            db = u.path.lstrip("/")
            for what, mine, theirs in (("user", u.username, pg.get("POSTGRES_USER")),
                                       ("password", u.password, pg.get("POSTGRES_PASSWORD")),
                                       ("database", db, pg.get("POSTGRES_DB"))):
                if theirs is not None and mine != theirs:
                    self.err(f"service {name}: {key}: {what} '{mine}' but service {host} creates '{theirs}'")
        deps = svc.get("depends_on") or {}
        if host not in deps:
            self.err(f"service {name}: {key} names service {host}, which is not in its depends_on")
        elif isinstance(deps, dict) and host in self.apps + [self.roles.get("postgres")]:
            cond = (deps.get(host) or {}).get("condition")
            if self.services[host].get("healthcheck") and cond != "service_healthy":
                self.err(f"service {name}: depends_on {host} should wait for service_healthy")

    def check_apps(self):
        if not self.apps:
            self.err(f"{COMPOSE_FILE}: no service is built from demo/Dockerfile")
        for name in self.apps:
            svc = self.services[name]
            env = env_of(svc)
            for key, value in env.items():
                if URL_RE.match(value):
                    self.check_url_value(name, key, value, svc)
            deps = svc.get("depends_on") or {}
            for dep in deps:
                if dep not in self.services:
                    self.err(f"service {name}: depends_on names unknown service {dep}")
            if "PORT" not in env:
                if svc.get("ports"):
                    self.err(f"service {name}: publishes ports but sets no PORT")
                continue
            port = env["PORT"]
            if not port.isdigit():
                self.err(f"service {name}: PORT={port} is not a number")
                continue
            expected_name = name.replace("-", "_")
            if env.get("OTEL_SERVICE_NAME") != expected_name:
                self.err(f"service {name}: OTEL_SERVICE_NAME={env.get('OTEL_SERVICE_NAME')} (the contract says {expected_name})")
            if env.get("LISTEN_ADDRESS") != "0.0.0.0":
                self.err(f"service {name}: LISTEN_ADDRESS must be 0.0.0.0 in a container (got {env.get('LISTEN_ADDRESS')})")
            if "otlp" in env.get("OTEL_TRACES_EXPORTER", "") or "otlp" in env.get("OTEL_LOGS_EXPORTER", ""):
                if "OTEL_EXPORTER_OTLP_ENDPOINT" not in env:
                    self.err(f"service {name}: exports OTLP but sets no OTEL_EXPORTER_OTLP_ENDPOINT")
                elif self.roles.get("collector") not in deps:
                    pass  # reported by check_url_value
            published = ports_of(svc)
            if not published:
                self.err(f"service {name}: PORT={port} is not published")
            for ip, hport, cport in published:
                if cport != port:
                    self.err(f"service {name}: publishes container port {cport} but PORT={port}")
                if ip not in ("127.0.0.1", "::1", "[::1]"):
                    self.err(f"service {name}: port {hport}:{cport} is published on all interfaces (use 127.0.0.1)")
            hc = healthcheck_text(svc)
            if not hc:
                self.err(f"service {name}: no healthcheck")
            else:
                if not re.search(rf"[:/]{port}\b", hc):
                    self.err(f"service {name}: healthcheck does not probe PORT={port}: {hc}")
                if "/health" not in hc:
                    self.err(f"service {name}: healthcheck does not ask /health or /health/ready")
                tool = (svc["healthcheck"]["test"][1] if isinstance(svc["healthcheck"].get("test"), list)
                        and len(svc["healthcheck"]["test"]) > 1 else "")
                if tool in ("curl", "wget"):
                    self.err(f"service {name}: healthcheck uses {tool}, which the runtime image does not install")
            d, stage = svc.get("_dockerfile"), svc.get("_stage")
            if d and stage:
                expose = d.resolve(stage, "expose")
                if expose and port not in expose:
                    self.err(f"service {name}: stage {stage} EXPOSEs {expose} but compose sets PORT={port}")
                denv = d.env(stage)
                if denv.get("PORT") and denv["PORT"] != port:
                    self.err(f"service {name}: stage {stage} sets PORT={denv['PORT']} but compose sets PORT={port}")

    # ---- binaries
    def check_binaries(self):
        by_binary = {}
        for name in self.apps:
            b = self.services[name].get("_binary")
            if b:
                by_binary.setdefault(b, []).append(name)
        if not self.binaries:
            self.notes.append("SKIP binary checks: no --binary given (the demo targets user_svc, job_svc, "
                              "image_svc, loadgen were not built in this tree)")
            return
        for binary in sorted(by_binary):
            if binary not in self.binaries:
                self.err(f"no --binary {binary}=PATH given, but compose runs {binary}")
        for binary, path in sorted(self.binaries.items()):
            if binary not in by_binary:
                self.err(f"--binary {binary}: no compose service runs it")
                continue
            if not os.access(path, os.X_OK):
                self.err(f"--binary {binary}={path}: not an executable file")
                continue
            help_text = self.run_binary(binary, path, "--help")
            if help_text is None:
                continue
            for name in by_binary[binary]:
                svc = self.services[name]
                for key in sorted(env_of(svc)):
                    if not re.search(rf"(?<![A-Z0-9_]){re.escape(key)}(?![A-Z0-9_])", help_text):
                        self.err(f"service {name}: compose sets {key}, which `{binary} --help` does not list "
                                 f"(misspelt, or not read by the binary)")
                if env_of(svc).get("PORT"):
                    routes = self.run_binary(binary, path, "--list-routes")
                    if routes is None:
                        continue
                    hc = healthcheck_text(svc)
                    m = re.search(r"(/health[\w/]*)", hc)
                    if m and not re.search(rf"^GET\s+{re.escape(m.group(1))}\s*$", routes, re.M):
                        self.err(f"service {name}: healthcheck asks GET {m.group(1)}, which "
                                 f"`{binary} --list-routes` does not list")
                    if not re.search(r"^GET\s+/metrics\s*$", routes, re.M):
                        self.err(f"service {name}: `{binary} --list-routes` lists no GET /metrics (Prometheus scrapes it)")

    def run_binary(self, binary, path, flag):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
        try:
            p = subprocess.run([path, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, timeout=self.timeout, env=env)
        except subprocess.TimeoutExpired:
            self.err(f"`{binary} {flag}` did not exit within {self.timeout} s")
            return None
        except OSError as e:
            self.err(f"`{binary} {flag}`: {e}")
            return None
        if p.returncode != 0:
            self.err(f"`{binary} {flag}` exited {p.returncode}: {p.stderr.strip()[:300]}")
            return None
        return p.stdout + "\n" + p.stderr

    # ---- collector
    def check_collector(self):
        if "collector" not in self.configs:
            return
        _, hp, cfg = self.configs["collector"]
        where = os.path.relpath(hp, self.root)
        walk(cfg, schemas.COLLECTOR, "", self.errors, where)
        service = cfg.get("service") or {}
        pipelines = service.get("pipelines") or {}
        if not pipelines:
            self.err(f"{where}: no pipelines")
        for ext in service.get("extensions") or []:
            if ext not in (cfg.get("extensions") or {}):
                self.err(f"{where}: service.extensions names '{ext}', which is not defined under extensions")
        exporter_hosts = {}
        for eid, ecfg in (cfg.get("exporters") or {}).items():
            ecfg = ecfg or {}
            etype = str(eid).split("/")[0]
            ep = ecfg.get("endpoint")
            if etype in ("otlp", "otlphttp"):
                if not ep:
                    self.err(f"{where}: exporter {eid} has no endpoint")
                    continue
                host, port, path = host_port(str(ep), 443 if str(ep).startswith("https") else 80)
                exporter_hosts[eid] = host
                if host not in self.services:
                    self.err(f"{where}: exporter {eid} endpoint {ep}: '{host}' is not a compose service")
                    continue
                role = {v: k for k, v in self.roles.items()}.get(host)
                if etype == "otlp":
                    if not (ecfg.get("tls") or {}).get("insecure"):
                        self.err(f"{where}: exporter {eid} to {host} needs tls.insecure: true (plaintext gRPC inside the compose network)")
                    if role == "tempo" and port != self.tempo_receiver_ports().get("grpc"):
                        self.err(f"{where}: exporter {eid} sends OTLP/gRPC to {host}:{port} but Tempo's OTLP gRPC "
                                 f"receiver listens on {self.tempo_receiver_ports().get('grpc')}")
                if etype == "otlphttp":
                    if role == "loki":
                        lport = (self.configs.get("loki", (0, 0, {}))[2].get("server") or {}).get("http_listen_port", 3100)
                        if port != lport:
                            self.err(f"{where}: exporter {eid} sends to {host}:{port} but Loki listens on {lport}")
                        if path.rstrip("/") != "/otlp":
                            self.err(f"{where}: exporter {eid} endpoint {ep}: Loki's OTLP endpoint is http://{host}:{lport}/otlp "
                                     f"(the exporter appends /v1/logs)")
                    elif role == "tempo" and port != self.tempo_receiver_ports().get("http"):
                        self.err(f"{where}: exporter {eid} sends OTLP/HTTP to {host}:{port}, not Tempo's receiver port")
        for pname, p in pipelines.items():
            p = p or {}
            signal = str(pname).split("/")[0]
            if signal not in ("traces", "metrics", "logs"):
                self.err(f"{where}: pipeline '{pname}': unknown signal '{signal}'")
            for kind in ("receivers", "processors", "exporters"):
                for cid in p.get(kind) or []:
                    if cid not in (cfg.get(kind) or {}) and cid not in (cfg.get("connectors") or {}):
                        self.err(f"{where}: pipeline '{pname}' names {kind[:-1]} '{cid}', which is not defined under {kind}")
            if not p.get("receivers"):
                self.err(f"{where}: pipeline '{pname}' has no receivers")
            if not p.get("exporters"):
                self.err(f"{where}: pipeline '{pname}' has no exporters")
            procs = [str(x).split("/")[0] for x in p.get("processors") or []]
            if "memory_limiter" in procs and procs[0] != "memory_limiter":
                self.err(f"{where}: pipeline '{pname}': memory_limiter must be the first processor")
            targets = {self.roles_by_service().get(exporter_hosts.get(e)) for e in p.get("exporters") or []}
            want = {"traces": "tempo", "logs": "loki"}.get(signal)
            if want and want not in targets:
                self.err(f"{where}: pipeline '{pname}' does not export to {want}")
        # receivers must listen on all interfaces, on the ports compose publishes
        for rid, rcfg in (cfg.get("receivers") or {}).items():
            for proto, pcfg in (((rcfg or {}).get("protocols")) or {}).items():
                ep = str((pcfg or {}).get("endpoint") or "")
                if not ep.startswith("0.0.0.0:"):
                    self.err(f"{where}: receiver {rid} {proto} endpoint '{ep or '(default: localhost)'}' is not "
                             f"reachable from other containers (use 0.0.0.0:<port>)")
        published = {c for _, _, c in ports_of(self.services[self.roles["collector"]])}
        for proto, port in self.collector_receiver_ports().items():
            if str(port) not in published:
                self.err(f"service {self.roles['collector']}: OTLP {proto} port {port} is not published")

    def roles_by_service(self):
        return {v: k for k, v in self.roles.items()}

    def volume_path_check(self, role, where, paths):
        name = self.roles[role]
        for key, p in paths:
            if not p:
                continue
            kind, _ = self.container_to_host(name, str(p))
            if kind != "volume":
                self.err(f"{where}: {key}={p} is not on a named volume of service {name} "
                         f"(data would be lost, or unwritable for the image's non-root user)")

    # ---- tempo
    def check_tempo(self):
        if "tempo" not in self.configs:
            return
        _, hp, cfg = self.configs["tempo"]
        where = os.path.relpath(hp, self.root)
        walk(cfg, schemas.TEMPO, "", self.errors, where)
        mg = cfg.get("metrics_generator") or {}
        rws = ((mg.get("storage") or {}).get("remote_write")) or []
        procs = ((((cfg.get("overrides") or {}).get("defaults") or {}).get("metrics_generator") or {}).get("processors")) or []
        if not procs:
            self.err(f"{where}: overrides.defaults.metrics_generator.processors enables no processor "
                     f"(no service graph / span metrics)")
        for pr in procs:
            if pr not in ("service-graphs", "span-metrics", "local-blocks"):
                self.err(f"{where}: unknown metrics-generator processor '{pr}'")
        if procs and not rws:
            self.err(f"{where}: metrics_generator.storage.remote_write is empty")
        for rw in rws:
            url = str((rw or {}).get("url", ""))
            host, port, path = host_port(url, 80)
            if host != self.roles.get("prometheus"):
                self.err(f"{where}: remote_write url {url} does not name the Prometheus service")
            elif port != PROMETHEUS_PORT or path != "/api/v1/write":
                self.err(f"{where}: remote_write url {url}: Prometheus' receiver is http://{host}:{PROMETHEUS_PORT}/api/v1/write")
        for proto, pcfg in ((((cfg.get("distributor") or {}).get("receivers") or {}).get("otlp") or {}).get("protocols") or {}).items():
            ep = str((pcfg or {}).get("endpoint") or "")
            if not ep.startswith("0.0.0.0:"):
                self.err(f"{where}: distributor otlp {proto} endpoint '{ep or '(default)'}' should be 0.0.0.0:<port> "
                         f"so the Collector can reach it")
        trace = ((cfg.get("storage") or {}).get("trace") or {})
        self.volume_path_check("tempo", where, [
            ("storage.trace.wal.path", (trace.get("wal") or {}).get("path")),
            ("storage.trace.local.path", (trace.get("local") or {}).get("path")),
            ("metrics_generator.storage.path", (mg.get("storage") or {}).get("path")),
        ])
        port = (cfg.get("server") or {}).get("http_listen_port")
        if port is None:
            self.err(f"{where}: server.http_listen_port is not set (Tempo 2.x defaults to 80 in some versions; Grafana uses 3200)")

    # ---- loki
    def check_loki(self):
        if "loki" not in self.configs:
            return
        _, hp, cfg = self.configs["loki"]
        where = os.path.relpath(hp, self.root)
        walk(cfg, schemas.LOKI, "", self.errors, where)
        if cfg.get("auth_enabled", True):
            self.err(f"{where}: auth_enabled must be false (the Collector sends no X-Scope-OrgID)")
        configs = ((cfg.get("schema_config") or {}).get("configs")) or []
        if not any(str(c.get("schema")) == "v13" and c.get("store") == "tsdb" for c in configs if isinstance(c, dict)):
            self.err(f"{where}: no schema_config entry with schema v13 and store tsdb (structured metadata needs it)")
        if (cfg.get("limits_config") or {}).get("allow_structured_metadata") is False:
            self.err(f"{where}: allow_structured_metadata is false: Loki rejects OTLP logs")
        common = cfg.get("common") or {}
        fs = ((common.get("storage") or {}).get("filesystem")) or {}
        self.volume_path_check("loki", where, [
            ("common.path_prefix", common.get("path_prefix")),
            ("common.storage.filesystem.chunks_directory", fs.get("chunks_directory")),
            ("common.storage.filesystem.rules_directory", fs.get("rules_directory")),
        ])
        if (cfg.get("server") or {}).get("http_listen_port") is None:
            self.err(f"{where}: server.http_listen_port is not set")

    # ---- grafana
    def check_grafana(self):
        name = self.roles.get("grafana")
        if not name:
            return
        svc = self.services[name]
        ds_files, dash_files = [], []
        for kind, src, dst, _ in mounts_of(svc):
            if kind != "bind":
                continue
            hp = self.host(src)
            for d, bucket in ((GRAFANA_DS_DIR, ds_files), (GRAFANA_DASH_DIR, dash_files)):
                if under(dst, d):
                    if os.path.isdir(hp):
                        bucket += [os.path.join(hp, f) for f in sorted(os.listdir(hp)) if f.endswith((".yaml", ".yml"))]
                    elif os.path.isfile(hp):
                        bucket.append(hp)
        if not ds_files:
            self.err(f"service {name}: no datasource provisioning file is mounted under {GRAFANA_DS_DIR}")
        if not dash_files:
            self.err(f"service {name}: no dashboard provider file is mounted under {GRAFANA_DASH_DIR}")
        for f in dash_files:
            rel = os.path.relpath(f, self.root)
            doc = load_yaml(f) or {}
            providers = doc.get("providers") or []
            if not providers:
                self.err(f"{rel}: no providers")
            for p in providers:
                path = ((p or {}).get("options") or {}).get("path")
                if not path:
                    self.err(f"{rel}: provider {p.get('name')} has no options.path")
                    continue
                kind, hp = self.container_to_host(name, str(path))
                if kind != "bind":
                    self.err(f"{rel}: provider path {path} is not bind-mounted into service {name}")
                elif not os.path.isdir(hp):
                    self.err(f"{rel}: provider path {path} maps to {os.path.relpath(hp, self.root)}, which is not a directory")
                elif not any(fn.endswith(".json") for _, _, fns in os.walk(hp) for fn in fns):
                    self.err(f"{rel}: provider path {path} ({os.path.relpath(hp, self.root)}) holds no dashboard .json")
        uids = {}
        refs = []
        for f in ds_files:
            rel = os.path.relpath(f, self.root)
            doc = load_yaml(f) or {}
            walk(doc, schemas.GRAFANA_DATASOURCES_FILE, "", self.errors, rel)
            self.check_dollars(doc, "", rel)
            for ds in doc.get("datasources") or []:
                if not isinstance(ds, dict):
                    continue
                uid, dtype = ds.get("uid"), ds.get("type")
                if not uid:
                    self.err(f"{rel}: datasource {ds.get('name')} has no uid")
                elif uid in uids:
                    self.err(f"{rel}: datasource uid '{uid}' defined twice")
                uids[uid] = dtype
                jschema = schemas.GRAFANA_JSONDATA.get(dtype)
                if jschema is None:
                    self.err(f"{rel}: datasource {uid}: type '{dtype}' has no jsonData allowlist")
                else:
                    walk(ds.get("jsonData") or {}, jschema, f"datasources[{uid}].jsonData", self.errors, rel)
                self.collect_uid_refs(ds.get("jsonData") or {}, f"datasources[{uid}].jsonData", refs)
                url = ds.get("url")
                if url:
                    self.check_ds_url(rel, uid, dtype, str(url))
                else:
                    self.err(f"{rel}: datasource {uid} has no url")
                jd = ds.get("jsonData") or {}
                for i, df in enumerate(jd.get("derivedFields") or []):
                    mt = df.get("matcherType", "regex")
                    if mt not in ("regex", "label"):
                        self.err(f"{rel}: {uid} derivedFields[{i}].matcherType '{mt}' (Grafana knows regex and label)")
                    if mt == "label" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(df.get("matcherRegex", ""))):
                        self.err(f"{rel}: {uid} derivedFields[{i}]: with matcherType label, matcherRegex is a label/"
                                 f"structured-metadata name, not '{df.get('matcherRegex')}'")
                t2l = jd.get("tracesToLogsV2") or {}
                if t2l.get("customQuery"):
                    q = str(t2l.get("query", ""))
                    if "trace_id" not in q or "service_name" not in q:
                        self.err(f"{rel}: {uid} tracesToLogsV2 custom query should select service_name and filter "
                                 f"on trace_id (Loki's OTLP label and structured metadata): {q}")
        for want_uid, want_type in REQUIRED_DATASOURCE_UIDS.items():
            if uids.get(want_uid) != want_type:
                self.err(f"Grafana datasources: no datasource with uid '{want_uid}' of type {want_type} (contract)")
        for where, ref in refs:
            if ref not in uids:
                self.err(f"Grafana datasources: {where} names datasource uid '{ref}', which is not provisioned")

    def check_dollars(self, node, path, rel):
        if isinstance(node, dict):
            for k, v in node.items():
                self.check_dollars(v, f"{path}.{k}" if path else str(k), rel)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.check_dollars(v, f"{path}[{i}]", rel)
        elif isinstance(node, str) and UNESCAPED_DOLLAR.search(node):
            self.err(f"{rel}: {path}: '{node}' has an unescaped $ that Grafana expands from its environment "
                     f"(write $$ for Grafana's own macros)")

    def collect_uid_refs(self, node, path, out):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasourceUid":
                    out.append((f"{path}.{k}", v))
                else:
                    self.collect_uid_refs(v, f"{path}.{k}", out)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.collect_uid_refs(v, f"{path}[{i}]", out)

    def check_ds_url(self, rel, uid, dtype, url):
        host, port, _ = host_port(url, 80)
        if host not in self.services:
            self.err(f"{rel}: datasource {uid} url {url}: '{host}' is not a compose service")
            return
        expected = {"prometheus": "prometheus", "tempo": "tempo", "loki": "loki"}.get(dtype)
        if expected and self.roles.get(expected) != host:
            self.err(f"{rel}: datasource {uid} ({dtype}) url {url} names service {host}, not the {expected} service")
            return
        ports = self.listen_port(host)
        if dtype in ("tempo", "loki") and dtype in self.configs:
            ports = {(self.configs[dtype][2].get("server") or {}).get("http_listen_port")}
        if ports is not None and port not in ports:
            self.err(f"{rel}: datasource {uid} url {url}: {host} serves HTTP on {sorted(p for p in ports if p)}")


# --------------------------------------------------------------------------
# self-test

FAKE_HELP = """#!/bin/sh
case "$1" in
  --help) cat <<'EOF'
usage: {binary} [--help] [--version] [--list-routes] [--port-file PATH]
environment:
{envs}
EOF
  ;;
  --list-routes) printf 'GET /metrics\\nGET /health\\nGET /health/ready\\n' ;;
  *) exit 2 ;;
esac
"""


def build_fixture(src_root, dst_root):
    """Copy what the checks read; stub the files other people own if absent."""
    for rel in (COMPOSE_FILE, DOCKERFILE_DEFAULT):
        os.makedirs(os.path.dirname(os.path.join(dst_root, rel)) or dst_root, exist_ok=True)
        shutil.copy2(os.path.join(src_root, rel), os.path.join(dst_root, rel))
    shutil.copytree(os.path.join(src_root, "monitoring"), os.path.join(dst_root, "monitoring"))
    if os.path.isdir(os.path.join(src_root, "dashboards")):
        shutil.copytree(os.path.join(src_root, "dashboards"), os.path.join(dst_root, "dashboards"))
    stubs = {
        "monitoring/alerts.yml": "groups: []\n",
        "dashboards/dashboards.yaml": ("apiVersion: 1\nproviders:\n  - name: obs\n    type: file\n"
                                       "    options:\n      path: /var/lib/grafana/dashboards\n"),
        "dashboards/stub.json": "{}\n",
    }
    created = []
    for rel, text in stubs.items():
        p = os.path.join(dst_root, rel)
        if rel.endswith(".json") and os.path.isdir(os.path.dirname(p)) and any(
                f.endswith(".json") for _, _, fs in os.walk(os.path.dirname(p)) for f in fs):
            continue
        if not os.path.exists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
            created.append(rel)
    return created


def make_fake_binaries(root, bindir, drop=None):
    """Shell scripts standing in for the binaries: --help lists every env var compose sets."""
    compose = load_yaml(os.path.join(root, COMPOSE_FILE))
    c = Checker(root, run_compose=False)
    c.run()
    envs, out = {}, {}
    for name, svc in compose["services"].items():
        b = c.services[name].get("_binary")
        if b:
            envs.setdefault(b, set()).update(env_of(svc))
    os.makedirs(bindir, exist_ok=True)
    for b, keys in envs.items():
        keys = sorted(k for k in keys if k != drop)
        p = os.path.join(bindir, b)
        with open(p, "w") as f:
            f.write(FAKE_HELP.replace("{binary}", b).replace("{envs}", "\n".join(f"  {k}" for k in keys)))
        os.chmod(p, 0o755)
        out[b] = p
    return out


def edit_yaml(path, fn):
    doc = load_yaml(path)
    fn(doc)
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)


def mutations():
    """(description, mutate(root), expected error substring, needs docker-compose)."""
    def y(rel, fn):
        return lambda root: edit_yaml(os.path.join(root, rel), fn)

    def app(name, fn):
        return y(COMPOSE_FILE, lambda d: fn(d["services"][name]))

    def setenv(name, key, value):
        return app(name, lambda s: s["environment"].__setitem__(key, value))

    def text_sub(rel, old, new):
        def f(root):
            p = os.path.join(root, rel)
            s = open(p).read()
            assert old in s, f"self-test: '{old}' not in {rel}"
            open(p, "w").write(s.replace(old, new, 1))
        return f

    def first(d, role_image):
        return next(n for n, s in d["services"].items() if str(s.get("image", "")).startswith(role_image))

    return [
        ("compose file the Compose schema rejects",
         app("postgres", lambda s: s.__setitem__("depends_on", {"loki": {"condition": "service_bogus"}})),
         "docker-compose -f docker-compose.yaml config failed", True),
        ("image tag latest",
         y(COMPOSE_FILE, lambda d: d["services"][first(d, "grafana/grafana")].__setitem__("image", "grafana/grafana:latest")),
         "is not pinned", False),
        ("image without a tag",
         y(COMPOSE_FILE, lambda d: d["services"][first(d, "postgres")].__setitem__("image", "postgres")),
         "has no tag", False),
        ("image bumped away from the schema's version",
         y(COMPOSE_FILE, lambda d: d["services"][first(d, "grafana/tempo")].__setitem__("image", "grafana/tempo:2.7.0")),
         "update PINNED", False),
        ("Dockerfile FROM latest",
         text_sub(DOCKERFILE_DEFAULT, "ARG DEBIAN_IMAGE=debian:12.8-slim", "ARG DEBIAN_IMAGE=debian:latest"),
         "is not pinned", False),
        ("bind-mounted file missing",
         lambda root: os.remove(os.path.join(root, "monitoring", "loki.yaml")),
         "does not exist", False),
        ("Prometheus rule file missing",
         lambda root: os.remove(os.path.join(root, "monitoring", "alerts.yml")),
         "does not exist", False),
        ("named volume not declared",
         y(COMPOSE_FILE, lambda d: d["volumes"].pop("loki-data")),
         "not declared", False),
        ("PORT differs from the published and scraped port",
         setenv("job-svc", "PORT", "9999"),
         "PORT=9999", False),
        ("service URL names an unknown service",
         setenv("user-svc", "JOB_SVC_URL", "http://jobs:8083"),
         "'jobs' is not a compose service", False),
        ("service URL on the wrong port",
         setenv("job-svc", "IMAGE_SVC_URL", "http://image-svc:8083"),
         "listens on [8084]", False),
        ("DATABASE_URL with the wrong database",
         setenv("job-svc", "DATABASE_URL", "postgresql://obs:obs@postgres:5432/other"),
         "database 'other'", False),
        ("OTLP endpoint on the gRPC port",
         setenv("image-svc", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4317"),
         "OTLP/HTTP receiver port", False),
        ("app port published on all interfaces",
         app("user-svc", lambda s: s.__setitem__("ports", ["8082:8082"])),
         "all interfaces", False),
        ("healthcheck on another port",
         app("image-svc", lambda s: s["healthcheck"].__setitem__("test", ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000 && echo /health"])),
         "does not probe PORT", False),
        ("Prometheus target names no compose service",
         y("monitoring/prometheus.yml", lambda d: d["scrape_configs"][0]["static_configs"][0].__setitem__("targets", ["usersvc:8082"])),
         "is not a compose service", False),
        ("Collector: unknown key",
         y("monitoring/otel-collector.yaml", lambda d: d["exporters"]["otlp/tempo"]["tls"].__setitem__("insecure_mode", True)),
         "unknown key 'exporters.otlp/tempo.tls.insecure_mode'", False),
        ("Collector: deprecated loki exporter",
         y("monitoring/otel-collector.yaml", lambda d: d["exporters"].__setitem__("loki", {"endpoint": "http://loki:3100/loki/api/v1/push"})),
         "unknown exporter type 'loki'", False),
        ("Collector: pipeline names an undefined exporter",
         y("monitoring/otel-collector.yaml", lambda d: d["service"]["pipelines"]["traces"].__setitem__("exporters", ["otlp/jaeger"])),
         "which is not defined under exporters", False),
        ("Collector: receiver on localhost",
         y("monitoring/otel-collector.yaml", lambda d: d["receivers"]["otlp"]["protocols"]["http"].__setitem__("endpoint", "localhost:4318")),
         "not reachable from other containers", False),
        ("Collector: Loki exporter on the push API path",
         y("monitoring/otel-collector.yaml", lambda d: d["exporters"]["otlphttp/loki"].__setitem__("endpoint", "http://loki:3100/loki/api/v1/push")),
         "Loki's OTLP endpoint", False),
        ("Tempo: legacy overrides key",
         y("monitoring/tempo.yaml", lambda d: d["overrides"].__setitem__("metrics_generator_processors", ["service-graphs"])),
         "legacy flat overrides", False),
        ("Tempo: remote_write to another host",
         y("monitoring/tempo.yaml", lambda d: d["metrics_generator"]["storage"]["remote_write"][0].__setitem__("url", "http://mimir:9009/api/v1/push")),
         "does not name the Prometheus service", False),
        ("Tempo: WAL outside the volume",
         y("monitoring/tempo.yaml", lambda d: d["storage"]["trace"]["wal"].__setitem__("path", "/tmp/tempo/wal")),
         "not on a named volume", False),
        ("Loki: unknown key",
         y("monitoring/loki.yaml", lambda d: d["limits_config"].__setitem__("allow_structured_metadatas", True)),
         "unknown key 'limits_config.allow_structured_metadatas'", False),
        ("Loki: schema v12",
         y("monitoring/loki.yaml", lambda d: d["schema_config"]["configs"][0].__setitem__("schema", "v12")),
         "schema v13", False),
        ("Grafana: datasource uid reference to nothing",
         y("monitoring/grafana/datasources.yaml", lambda d: d["datasources"][0]["jsonData"]["exemplarTraceIdDestinations"][0].__setitem__("datasourceUid", "jaeger")),
         "names datasource uid 'jaeger'", False),
        ("Grafana: unescaped macro",
         text_sub("monitoring/grafana/datasources.yaml", "'$${__value.raw}'", "'${__value.raw}'"),
         "unescaped $", False),
        ("Grafana: unknown jsonData key",
         y("monitoring/grafana/datasources.yaml", lambda d: d["datasources"][1]["jsonData"].__setitem__("tracesToLogs", {"datasourceUid": "loki"})),
         "unknown key 'datasources[tempo].jsonData.tracesToLogs'", False),
        ("Grafana: datasource URL on the wrong port",
         y("monitoring/grafana/datasources.yaml", lambda d: d["datasources"][2].__setitem__("url", "http://loki:3200")),
         "loki serves HTTP on [3100]", False),
        ("Grafana: dashboard provider path not mounted",
         y("dashboards/dashboards.yaml", lambda d: d["providers"][0]["options"].__setitem__("path", "/etc/dashboards")),
         "is not bind-mounted", False),
    ]


def self_test(src_root, docker_compose):
    failures = 0
    with tempfile.TemporaryDirectory(prefix="obs-compose-selftest-") as tmp:
        base = os.path.join(tmp, "base")
        os.makedirs(base)
        stubbed = build_fixture(src_root, base)
        if stubbed:
            print(f"self-test: stubbed files others own that are missing here: {', '.join(stubbed)}")
        bins = make_fake_binaries(base, os.path.join(tmp, "bin"))
        errors = Checker(base, docker_compose, bins, run_compose=True).run()
        if errors:
            print("FAIL self-test baseline: the unmodified copy does not pass:")
            for e in errors:
                print(f"  - {e}")
            return 1
        print(f"ok   baseline passes (with fake binaries {sorted(bins)})")
        # binary mutation: --help without one env var
        bins2 = make_fake_binaries(base, os.path.join(tmp, "bin2"), drop="DATABASE_URL")
        errors = Checker(base, docker_compose, bins2, run_compose=False).run()
        if any("DATABASE_URL" in e and "--help" in e for e in errors):
            print("ok   caught: a binary whose --help does not list an env var compose sets")
        else:
            failures += 1
            print(f"FAIL not caught: binary --help without DATABASE_URL; errors: {errors}")
        for i, (desc, mutate, expect, needs_compose) in enumerate(mutations()):
            root = os.path.join(tmp, f"m{i}")
            shutil.copytree(base, root)
            mutate(root)
            # The binaries were checked on the baseline; mutations of the
            # files do not need them (and skipping them keeps this fast).
            errors = Checker(root, docker_compose, None, run_compose=needs_compose).run()
            if any(expect in e for e in errors):
                print(f"ok   caught: {desc}")
            else:
                failures += 1
                print(f"FAIL not caught: {desc} (expected an error containing {expect!r}); got: {errors}")
            shutil.rmtree(root)
    total = len(mutations()) + 2
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo-root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--docker-compose", default=None, help="docker-compose executable (default: from PATH)")
    ap.add_argument("--binary", action="append", default=[], metavar="NAME=PATH",
                    help="a built demo binary, e.g. user_svc=build/demo/user_svc/user_svc")
    ap.add_argument("--self-test", action="store_true", help="check that the checks catch broken copies")
    args = ap.parse_args()
    root = os.path.abspath(args.repo_root)
    if args.self_test:
        return self_test(root, args.docker_compose)
    binaries = {}
    for b in args.binary:
        name, sep, path = b.partition("=")
        if not sep or not path:
            ap.error(f"--binary {b}: expected NAME=PATH")
        binaries[name] = path
    checker = Checker(root, args.docker_compose, binaries)
    errors = checker.run()
    for n in checker.notes:
        print(n)
    for e in errors:
        print(f"FAIL {e}")
    print(f"compose checks: {'FAILED, ' + str(len(errors)) + ' problem(s)' if errors else 'all passed'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
