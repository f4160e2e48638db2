#!/usr/bin/env python3
"""The bad-configuration matrix of scripts/test-robustness.

Builds CASES random environments (seeded, so a run is reproducible) from good values: the seed's
node-a (WG_ADDRESS=10.0.0.1/24, peer B with key, allowed IPs, endpoint node-b:51820, keepalive 25)
plus the other variables of README.md's environment table, some optional ones left out. In each, one to three
variables are replaced by junk (empty, 100 kB, unicode, control characters, off-by-one numbers,
truncated keys, broken endpoints, signs, white space) or unset, or an unknown variable is added.
`vpn-init render` runs on each, with a fresh data directory (some already holding a key) and the
case's directory as working directory, and must:
  - neither crash (signal, "Fatal error") nor hang (5 s);
  - exit 0 or 78;
  - on 78, log only lines `VARIABLE: reason` naming a variable that was set, or a required one;
  - never print a private key (WG_PRIVATE_KEY's value, or a key file in the data directory) or
    the preshared key on an error run, nor in the log of any run;
  - on 78, write nothing: the case directory (data directory included) is unchanged.
Prints one `ok - ` / `not ok - ` line per property, with the failing cases and how to rerun one.
Usage: scripts/lib/bad-env-matrix.py VPN_INIT WORKDIR [SEED] [CASES] [ONLY_CASE]
"""
import base64
import os
import random
import re
import subprocess
import sys

BIN, WORK = sys.argv[1], sys.argv[2]
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
CASES = int(sys.argv[4]) if len(sys.argv) > 4 else 400
ONLY = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
TIMEOUT = 5


def wg(*args, stdin=None):
    return subprocess.run(["wg", *args], input=stdin, capture_output=True, text=True, check=True).stdout.strip()


# Keys for the whole run (the matrix's randomness is the seed's; keys only need to be valid).
PRIVATE = wg("genkey")
STORED_PRIVATE = wg("genkey")  # the key some data directories already hold
PEER_B = wg("pubkey", stdin=wg("genkey"))
PEER_C = wg("pubkey", stdin=wg("genkey"))
PRESHARED = wg("genpsk")

SHARED = os.path.join(WORK, "shared")
os.makedirs(SHARED, exist_ok=True)
for name, text in (("c.pub", PEER_C), ("psk", PRESHARED), ("ca.pem", "not read by render\n")):
    path = os.path.join(SHARED, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)

SECRETS = {"WG_PRIVATE_KEY's value": PRIVATE, "the stored private key": STORED_PRIVATE, "the preshared key": PRESHARED}


def good_environment(case_dir, rng):
    """The seed's node-a plus README.md's other variables with good values; optional ones may be left out."""
    data = os.path.join(case_dir, "data")
    required = {
        "VPN_DATA_DIR": data,
        "WG_ADDRESS": "10.0.0.1/24",
        "WG_PEER_B_PUBLIC_KEY": PEER_B,
        "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32",
        "WG_PEER_B_ENDPOINT": "node-b:51820",
        "WG_PEER_B_PERSISTENT_KEEPALIVE": "25",
    }
    optional = {
        "WG_INTERFACE": "wg0",
        "WG_LISTEN_PORT": "51820",
        "WG_PRIVATE_KEY_FILE": os.path.join(data, "privatekey"),
        "WG_PRIVATE_KEY": PRIVATE,
        "WG_PUBLIC_KEY_EXPORT": os.path.join(case_dir, "export", "a.pub"),
        "WG_MTU": "1420",
        "WG_FWMARK": "0x1234",
        "WG_FORWARD": "true",
        "WG_MASQUERADE": "auto",
        "WG_IMPLEMENTATION": "auto",
        "WG_USERSPACE_BIN": "/usr/bin/wireguard-go",
        "WG_TCP_LISTEN": "0.0.0.0:443",
        "WG_PEER_KEY_WAIT": "60",
        "VPN_SHUTDOWN_GRACE": "8",
        "LOG_LEVEL": "info",
        "WG_PEER_B_PRESHARED_KEY_FILE": os.path.join(SHARED, "psk"),
    }
    peer_c = {
        "WG_PEER_C_PUBLIC_KEY_FILE": os.path.join(SHARED, "c.pub"),
        "WG_PEER_C_ALLOWED_IPS": "10.0.1.0/24",
        "WG_PEER_C_TCP_ENDPOINT": "gw.example:443",
        "WG_PEER_C_TLS_SNI": "app-443.gw.example",
        "WG_PEER_C_TLS_CA_FILE": os.path.join(SHARED, "ca.pem"),
    }
    environment = dict(required)
    environment.update({k: v for k, v in optional.items() if rng.random() < 0.5})
    if rng.random() < 0.4:
        environment.update(peer_c)
    return environment


def junk_for(variable, case_dir, rng):
    """Junk values: general ones, and ones aimed at this variable's syntax. Absolute paths stay
    inside the case's directory, so no junk path can write anywhere else."""
    general = [
        "", " ", "\t", "x" * 100_000, "9" * 100_000, "ünïcødé", "\U0001F600", "\u202e1", "\u2028", "５１８２０",
        "a\nb", "\n", "line\r\n", "\x01", "\x1b[2J", "\x7f", "a\\0b", "\\n", "\\x00", "-1", "+1", "0", "-0",
        "99999999999999999999999", " 1", "1 ", "1 2", "true false", "null", "${WG_ADDRESS}", "'quoted'", '"quoted"',
        "%s%n", ",", ",,", "=", "==", ";",
    ]
    key = {"WG_PRIVATE_KEY": PRIVATE}.get(variable, PEER_B)
    keys = [key[:-1], key[:43], key[1:], key + "=", key[:-1] + "A=", key.replace("=", ""), " " + key + " ",
            key[:20] + " " + key[20:], base64.b64decode(key).hex(), "A" * 43 + "=", key * 2, key.lower()]
    paths = ["relative/key", "./key", "~/key", "key", case_dir + "/dir/", case_dir + "/a\tb", case_dir + "/ünï/k",
             "/" + "x" * 5000, case_dir + "/" + "y" * 4100, case_dir + "//double//slash", case_dir + "/sub/../x"]
    networks = ["10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/-0", "10.0.0.1/+24", "10.0.0.1/024", "10.0.0.1/", "/24", "10.0.0.256/24", "10.0.0/24",
                "10.0.0.1/24,", ",10.0.0.1/24", "10.0.0.1/24,,fd00::1/64", "fd00::1/129", "fd00::1/64/1",
                "10.0.0.1 /24", "10.0.0.1/24, 10.0.0.1/24", "[fd00::1]/64", "0x0a000001/24", "10.0.0.1/24\n"]
    endpoints = ["node-b", "node-b:", ":51820", "[fd00::2]", "[fd00::2", "fd00::2]:51820", "[fd00::2]:", "fd00::2:51820",
                 "node-b:0", "node-b:65536", "node-b:-1", "node-b:+1", "node-b: 1", "node b:1", "-node:1", "a..b:1",
                 "x" * 300 + ":1", "[node-b]:1", "[::1]:99999", "node-b:51820:1", "10.0.0.2:51820/32"]
    numbers = {
        "WG_LISTEN_PORT": ["0", "65536", "-1", "+51820", " 51820", "51820 ", "0x10", "1e3", "51820.0"],
        "WG_MTU": ["575", "65536", "-1420", "+1420", "1420.5", "0"],
        "WG_FWMARK": ["0x100000000", "4294967296", "-1", "0x", "0xg", "+1", "0x-1"],
        "WG_PEER_KEY_WAIT": ["86401", "-1", "1e3", ".5", "5.", "inf", "nan", "1..2"],
        "VPN_SHUTDOWN_GRACE": ["3601", "-0.5", "+8", "8s", "infinity"],
        "WG_PEER_B_PERSISTENT_KEEPALIVE": ["65536", "-25", "+25", "25.0", "0x19"],
    }
    words = {
        "WG_INTERFACE": ["wg0-name-too-long", "wg 0", "wg/0", ".", "..", "wg:0", "ü"],
        "WG_FORWARD": ["maybe", "TRUE ", "2", "yes!"],
        "WG_MASQUERADE": ["eth0 eth1", "eth0,,eth1", "eth0,eth0", "autos", "x" * 16],
        "WG_IMPLEMENTATION": ["bpf", "Kernel ", "user space"],
        "LOG_LEVEL": ["loud", "trace", "0"],
        "WG_TCP_LISTEN": ["0.0.0.0", ":443", "host:443", "0.0.0.0:99999", "[::]", "[::", "0.0.0.0:0"],
        "WG_PEER_C_TLS_SNI": ["10.0.0.1", "-bad.example", "a..b", "x" * 254, "gw_example"],
        "WG_PEER_C_TCP_ENDPOINT": endpoints,
    }
    choices = list(general)
    if variable in ("WG_PRIVATE_KEY", "WG_PEER_B_PUBLIC_KEY"):
        choices += keys * 3
    if variable in ("VPN_DATA_DIR", "WG_PRIVATE_KEY_FILE", "WG_PUBLIC_KEY_EXPORT", "WG_USERSPACE_BIN",
                    "WG_PEER_C_PUBLIC_KEY_FILE", "WG_PEER_B_PRESHARED_KEY_FILE", "WG_PEER_C_TLS_CA_FILE"):
        choices += paths * 3
    if variable in ("WG_ADDRESS", "WG_PEER_B_ALLOWED_IPS", "WG_PEER_C_ALLOWED_IPS"):
        choices += networks * 2
    if variable == "WG_PEER_B_ENDPOINT":
        choices += endpoints * 2
    choices += numbers.get(variable, []) * 4 + words.get(variable, []) * 4
    # Absolute junk outside the case's directory could make render write there.
    return rng.choice([c for c in choices if not c.startswith("/") or c.startswith(case_dir) or len(c) > 4095])


UNKNOWN = ["WG_ADRESS", "WG_PEER_B_ENDPIONT", "WG_PEER_b_ENDPOINT", "WG_PEER_B_PRESHARED_KEY", "VPN_DATADIR",
           "WG_PEER__ALLOWED_IPS", "WG_PEER_B-C_ENDPOINT", "WG_LISTENPORT"]


def make_case(number):
    rng = random.Random(f"{SEED}-{number}")
    case_dir = os.path.join(WORK, f"case-{number}")
    environment = good_environment(case_dir, rng)
    changes = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.08:
            name = rng.choice(UNKNOWN)
            environment[name] = PRESHARED if name.endswith("PRESHARED_KEY") else "1"
            changes.append(f"+{name}")
        elif roll < 0.14:
            name = rng.choice(["WG_ADDRESS", "WG_PEER_B_ALLOWED_IPS", "WG_PEER_B_PUBLIC_KEY"])
            environment.pop(name, None)
            changes.append(f"-{name}")
        else:
            name = rng.choice(sorted(environment))
            environment[name] = junk_for(name, case_dir, rng)
            changes.append(name)
    stored_key = rng.random() < 0.25
    return case_dir, environment, changes, stored_key


def snapshot(directory):
    """Every path under `directory` with its size and mode: what a run may not change on exit 78."""
    result = {}
    for parent, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            result[path] = (info.st_mode, info.st_size)
    return result


def shown(value, limit=80):
    """A value for a report line: the work directory as $WORK, test keys by name, cut short."""
    value = value.replace(WORK, "$WORK")
    for name, key in (("<private key>", PRIVATE), ("<stored key>", STORED_PRIVATE), ("<preshared key>", PRESHARED)):
        value = value.replace(key[:43], name)
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...({len(value)} chars)"


def run_case(number):
    case_dir, environment, changes, stored_key = make_case(number)
    os.makedirs(case_dir, exist_ok=True)
    data = os.path.join(case_dir, "data")
    if stored_key:
        os.makedirs(data, mode=0o700, exist_ok=True)
        with open(os.path.join(data, "privatekey"), "w") as f:
            f.write(STORED_PRIVATE + "\n")
        os.chmod(os.path.join(data, "privatekey"), 0o600)
    before = snapshot(case_dir)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **environment}
    try:
        result = subprocess.run([BIN, "render"], env=env, cwd=case_dir, capture_output=True, timeout=TIMEOUT)
        status, out, err = result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        status, out, err = None, "", ""
    problems = {}

    def fail(prop, reason):
        problems.setdefault(prop, []).append(reason)

    if status is None:
        fail("hang", f"no exit within {TIMEOUT} s")
    else:
        if status < 0 or status >= 128 or "Fatal error" in err:
            fail("crash", f"exit {status}: {err.strip()[-300:]!r}")
        if status not in (0, 78):
            fail("status", f"exit {status}: {err.strip()[-300:]!r}")
        if status == 78:
            lines = [line for line in err.splitlines() if line.startswith("level=error")]
            if not lines:
                fail("names", "exit 78 without a message")
            for line in lines:
                match = re.match(r'level=error msg="(\S+?): (.*)"$', line)
                if not match:
                    fail("names", f"line does not name a variable: {shown(line, 200)}")
                elif match.group(1) not in environment and not match.group(2).startswith("is required"):
                    fail("names", f"names {match.group(1)}, which was not set: {shown(line, 200)}")
            after = snapshot(case_dir)
            if after != before:
                added = sorted(set(after) - set(before)) or sorted(p for p in after if after[p] != before.get(p))
                fail("writes", "exit 78 changed " + ", ".join(os.path.relpath(p, case_dir) for p in added[:5]))
        secrets = dict(SECRETS)
        for path in (os.path.join(data, "privatekey"),):
            if os.path.isfile(path):
                secrets["the data directory's private key"] = open(path).read().strip()
        streams = {"stdout": out, "stderr": err} if status != 0 else {"stderr": err}
        for stream, text in streams.items():
            for what, secret in secrets.items():
                # Any 24 characters of the key (or its hex form) count as printing it.
                hexed = base64.b64decode(secret).hex()
                if any(secret[i:i + 24] in text for i in range(0, 21)) or hexed[:32] in text or hexed[32:] in text:
                    fail("secrets", f"{what} is printed on {stream}")
    return case_dir, environment, changes, stored_key, status, problems


PROPERTIES = [
    ("crash", "never crashes (no signal, no \"Fatal error\")"),
    ("hang", f"never hangs (exits within {TIMEOUT} s)"),
    ("status", "exits 0 or 78"),
    ("names", "on 78 every error line names a variable that was set, or a required one"),
    ("secrets", "never prints a private or preshared key on an error run, nor in any log"),
    ("writes", "writes nothing on exit 78 (data directory and working directory unchanged)"),
]


def main():
    numbers = [ONLY] if ONLY is not None else range(1, CASES + 1)
    failures = {prop: [] for prop, _ in PROPERTIES}
    statuses = {}
    accepted = set()
    for number in numbers:
        case_dir, environment, changes, stored_key, status, problems = run_case(number)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 0:
            accepted.update((k, shown(environment[k], 48)) for k in changes if k in environment and "KEY" not in k)
        for prop, reasons in problems.items():
            failures[prop].append((number, changes, environment, reasons))
        if not problems and ONLY is None:
            subprocess.run(["rm", "-rf", case_dir])
    summary = ", ".join(f"exit {s}: {n}" for s, n in sorted(statuses.items(), key=lambda i: str(i[0])))
    print(f"# {len(numbers)} environments (seed {SEED}): {summary}")
    if accepted:
        print("# junk accepted as valid: " + ", ".join(f"{k}={v}" for k, v in sorted(accepted)[:16]))
    for prop, description in PROPERTIES:
        cases = failures[prop]
        print(f"{'not ok' if cases else 'ok'} - bad environments: {description}")
        for number, changes, environment, reasons in cases[:8]:
            print(f"  case {number} (changed {', '.join(changes)}): {'; '.join(reasons)[:400]}")
            print("    " + " ".join(f"{k}={shown(environment[k], 60)}" for k in sorted(environment) if k in changes
                                  or k.lstrip("+-") in changes)[:400])
        if cases:
            print(f"  ({len(cases)} cases; rerun one: ROBUSTNESS_SEED={SEED} ROBUSTNESS_CASE=N scripts/test-robustness)")


main()
