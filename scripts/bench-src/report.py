#!/usr/bin/env python3
"""Turns the samples of `make bench` into one table (stdout) and JSON.

    report.py RAW.tsv MACHINE.json OUT.json

RAW.tsv lines: SECTION<TAB>NAME<TAB>UNIT<TAB>VALUE, one per sample; VALUE `n/a: reason`
marks a measurement that could not be taken. Each row shows the median, min and max of its
samples and its ratio(s) to the baseline row(s) named below (median over median).
"""
import collections, json, math, statistics, sys

raw_path, machine_path, out_path = sys.argv[1:4]

# (section, row) -> [(baseline row, label)]: the row's median is divided by each baseline's.
RATIOS = {}
ORDER = []  # display order; rows not listed follow in the order measured
launch_rows = ["plain", "warden run", "bwrap", "firejail"]
for suffix in ("", " (CPU time)"):
    ORDER += [("launch", r + suffix) for r in launch_rows]
    for r in ("warden run", "firejail"):
        RATIOS[("launch", r + suffix)] = [("bwrap" + suffix, "bwrap"), ("plain" + suffix, "plain")]
    RATIOS[("launch", "bwrap" + suffix)] = [("plain" + suffix, "plain")]
for kind in ("getppid", "ioctl FIONREAD", "socket+close"):
    for f in ("plain", "allow-all", "warden default", "warden socket rule", "docker default"):
        ORDER.append(("syscall", f"{kind}: {f}"))
        if f not in ("plain", "allow-all"):
            RATIOS[("syscall", f"{kind}: {f}")] = [(f"{kind}: allow-all", "floor"), (f"{kind}: plain", "plain")]
    RATIOS[("syscall", f"{kind}: allow-all")] = [(f"{kind}: plain", "plain")]
    for f in ("warden default", "warden socket rule"):
        RATIOS[("syscall", f"{kind}: {f}")].append((f"{kind}: docker default", "docker"))
for what in ("BPF length", "mean instructions/syscall", "mean instructions/syscall after kernel cache", "calls allowed"):
    ORDER += [("filter", f"warden default: {what}"), ("filter", f"docker default: {what}")]
    RATIOS[("filter", f"warden default: {what}")] = [(f"docker default: {what}", "docker")]
ORDER.append(("compile", "startup floor (warden --version)"))
for prefix in ("lint", "compile one identity"):
    ORDER += [("compile", f"{prefix} {n} identities") for n in (10, 100, 1000)]
    ORDER += [("compile", f"{prefix}: growth exponent"), ("compile", f"{prefix}: growth exponent 100 -> 1000")]
ORDER += [("audit", n) for n in ("append (batches of 256, signed checkpoints)", "verify (in process)",
                                  "verify (whole process)", "sha256sum", "log size")]
RATIOS[("audit", "verify (whole process)")] = [("sha256sum", "sha256sum")]
RATIOS[("audit", "verify (in process)")] = [("sha256sum", "sha256sum")]
RATIOS[("network", "connect+close: mediated (warden run)")] = [("connect+close: without Warden", "without Warden")]
RATIOS[("network", "receive 1 GiB: mediated (warden run)")] = [("receive 1 GiB: without Warden", "without Warden")]
# HTTP broker (scripts/bench-broker.sh): brokered over direct, launch with http rules over without.
for what in ("small GET (keep-alive)", "small GET (new connection)"):
    ORDER += [("broker", f"{what}: direct"), ("broker", f"{what}: brokered")]
    RATIOS[("broker", f"{what}: brokered")] = [(f"{what}: direct", "direct")]
for suffix in ("", " (CPU time)"):
    ORDER += [("broker", "warden run /bin/true: no http rules" + suffix),
              ("broker", "warden run /bin/true: with http rules (broker)" + suffix)]
    RATIOS[("broker", "warden run /bin/true: with http rules (broker)" + suffix)] = [
        ("warden run /bin/true: no http rules" + suffix, "no http rules")]
for k in (2, 8, 32):
    ORDER += [("scale", f"warden run, {k} launchers"), ("scale", f"bwrap, {k} launchers")]
    RATIOS[("scale", f"warden run, {k} launchers")] = [(f"bwrap, {k} launchers", "bwrap")]
RATIOS[("denial", "denied syscall: recorded by warden run")] = [("denied syscall: filter alone (kernel floor)", "kernel floor")]
for suffix in ("", " (CPU time)"):
    ORDER += [("identities", f"default policy (cache warm){suffix}"), ("identities", f"1000 identities (cache warm){suffix}"),
              ("identities", f"1000 identities (cache cold){suffix}")]
    for v in ("warm", "cold"):
        RATIOS[("identities", f"1000 identities (cache {v}){suffix}")] = [(f"default policy (cache warm){suffix}", "default policy")]
SECTIONS = ["launch", "launch stages", "syscall", "filter", "compile", "audit", "network", "workload", "broker", "diff", "supervisor",
            "denial", "scale", "identities"]

rows = collections.OrderedDict()
for line in open(raw_path):
    line = line.rstrip("\n")
    if not line:
        continue
    section, name, unit, value = line.split("\t", 3)
    row = rows.setdefault((section, name), {"section": section, "name": name, "unit": unit, "samples": [], "na": None})
    if value.startswith("n/a"):
        row["na"] = value
    else:
        row["samples"].append(float(value))

for row in rows.values():
    s = row["samples"]
    if s:
        row["median"] = statistics.median(s)
        row["min"] = min(s)
        row["max"] = max(s)
        row["n"] = len(s)


def growth(section, prefix, sizes):
    """Least-squares slope of log(time) against log(size) over the medians."""
    pts = []
    for n in sizes:
        r = rows.get((section, f"{prefix} {n} identities"))
        if not r or "median" not in r or r["median"] <= 0:
            return None
        pts.append((math.log(n), math.log(r["median"])))
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


sizes = (10, 100, 1000)
for prefix in ("lint", "compile one identity"):
    k = growth("compile", prefix, sizes)
    if k is not None:
        rows[("compile", f"{prefix}: growth exponent")] = {
            "section": "compile", "name": f"{prefix}: growth exponent", "unit": "slope",
            "samples": [k], "median": k, "min": k, "max": k, "n": 1, "na": None}
    a, b = rows.get(("compile", f"{prefix} 100 identities")), rows.get(("compile", f"{prefix} 1000 identities"))
    if a and b and a.get("median") and b.get("median"):
        k = math.log(b["median"] / a["median"]) / math.log(10)
        name = f"{prefix}: growth exponent 100 -> 1000"
        rows[("compile", name)] = {"section": "compile", "name": name, "unit": "slope",
                                   "samples": [k], "median": k, "min": k, "max": k, "n": 1, "na": None}

# Workloads (scripts/bench-workloads.sh): "W: warden run (POLICY)" over "W: bare".
for section, name in list(rows):
    if section == "workload" and ": warden run" in name:
        w = name.split(": ", 1)[0]
        RATIOS[(section, name)] = [(w + ": bare", "bare")]
        ORDER += [(section, w + ": bare"), (section, name)]
    # Broker downloads ("download N MiB: brokered" over ": direct"; higher is better).
    if section == "broker" and name.startswith("download ") and name.endswith(": brokered"):
        what = name.rsplit(": ", 1)[0]
        RATIOS[(section, name)] = [(what + ": direct", "direct")]
        ORDER += [(section, what + ": direct"), (section, name)]

for key, row in rows.items():
    row["ratios"] = []
    for base, label in RATIOS.get(key, []):
        b = rows.get((key[0], base))
        if b and "median" in b and b["median"] and "median" in row:
            row["ratios"].append({"to": base, "label": label, "ratio": row["median"] / b["median"]})

order = {k: i for i, k in enumerate(ORDER)}
keys = sorted(rows, key=lambda k: (SECTIONS.index(k[0]) if k[0] in SECTIONS else len(SECTIONS),
                                   order.get(k, len(order)), list(rows).index(k)))
rows = collections.OrderedDict((k, rows[k]) for k in keys)


def fmt(v):
    if v is None:
        return ""
    a = abs(v)
    if a >= 100000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio_text(row):
    return ", ".join(f"{r['ratio']:.2f}x {r['label']}" for r in row["ratios"])


header = ["section", "measurement", "median", "min", "max", "unit", "n", "ratio (median/median)"]
table = []
for row in rows.values():
    if row["na"] and not row["samples"]:
        table.append([row["section"], row["name"], row["na"], "", "", row["unit"], "", ""])
    else:
        table.append([row["section"], row["name"], fmt(row.get("median")), fmt(row.get("min")), fmt(row.get("max")),
                      row["unit"], str(row.get("n", "")), ratio_text(row)])
widths = [max(len(header[i]), *(len(t[i]) for t in table)) for i in range(len(header))]
right = {2, 3, 4, 6}


def line(cells):
    return "| " + " | ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)) + " |"


machine = json.load(open(machine_path))
print(f"Machine: {machine.get('cpu')}, {machine.get('nproc')} cores, Linux {machine.get('kernel')}; {machine.get('date')}")
print(line(header))
print("|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|")
for t in table:
    print(line(t))


# --- goals (issue 17 and the diff's 2 s): figure, target, pass/miss --------------------------
def median(section, name):
    r = rows.get((section, name))
    return r.get("median") if r else None


def goal(name, value, target, unit, ok):
    if value is None:
        return {"goal": name, "value": None, "target": target, "unit": unit, "result": "n/a"}
    return {"goal": name, "value": value, "target": target, "unit": unit, "result": "pass" if ok(value) else "miss"}


def ratio(a, b):
    return a / b if a is not None and b else None


goals = [
    goal("launch /bin/true: warden run / bwrap, wall", ratio(median("launch", "warden run"), median("launch", "bwrap")), "<= 1.0", "x",
         lambda v: v <= 1.0),
    goal("launch /bin/true: warden run / bwrap, CPU", ratio(median("launch", "warden run (CPU time)"), median("launch", "bwrap (CPU time)")),
         "<= 1.0", "x", lambda v: v <= 1.0),
    goal("supervisor resident memory, idle agent", median("supervisor", "idle agent: resident memory"), "< 16", "MiB", lambda v: v < 16),
    goal("supervisor anonymous memory, idle agent (its own; binary pages are shared)",
         median("supervisor", "idle agent: anonymous resident memory"), "< 16", "MiB", lambda v: v < 16),
    goal("supervisor resident memory, busy agent (peak after the first 2 s)",
         median("supervisor", "busy agent (C build): peak resident memory after the first 2 s"), "< 16", "MiB", lambda v: v < 16),
    goal("supervisor wake-ups over 10 s of an idle agent", median("supervisor", "idle agent: wakeups in 10 s"), "0", "wakeups",
         lambda v: v == 0),
    goal("denied syscall recorded and answered", ratio(median("denial", "denied syscall: recorded by warden run"), 1000), "<= 10", "us",
         lambda v: v <= 10),
    goal("mediated connect: added latency", None if median("network", "connect+close: mediated (warden run)") is None
         or median("network", "connect+close: without Warden") is None else
         median("network", "connect+close: mediated (warden run)") - median("network", "connect+close: without Warden"), "<= 20", "us",
         lambda v: v <= 20),
    goal("allowed ioctl: warden default / docker default", ratio(median("syscall", "ioctl FIONREAD: warden default"),
         median("syscall", "ioctl FIONREAD: docker default")), "<= 1.0", "x", lambda v: v <= 1.0),
    goal("warden diff, 1,000 identities", next((r.get("median") for (sec, n), r in rows.items() if sec == "diff" and "1000 identities" in n), None),
         "< 2000", "ms", lambda v: v < 2000),
]
counted = next((r.get("median") for (sec, n), r in rows.items() if sec == "denial" and "counted exactly" in n), None)
goals.append(goal("denials in one run, all counted (counted / expected)", counted, "= 1", "ratio", lambda v: abs(v - 1) < 1e-9))
for k in (2, 8, 32):
    goals.append(goal(f"launches/s with {k} launchers: warden run / bwrap (higher is better)",
                      ratio(median("scale", f"warden run, {k} launchers"), median("scale", f"bwrap, {k} launchers")), ">= 1.0", "x",
                      lambda v: v >= 1.0))

print()
gw = max(len(g["goal"]) for g in goals)
print("Goals")
for g in goals:
    v = "n/a" if g["value"] is None else fmt(g["value"])
    print(f"  {g['result'].upper():4}  {g['goal'].ljust(gw)}  {v:>10} {g['unit']:<8} (goal {g['target']})")

result = {"machine": machine, "goals": goals, "rows": [
    {k: v for k, v in row.items() if k != "samples" or len(v) <= 200} for row in rows.values()]}
with open(out_path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
