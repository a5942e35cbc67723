#!/usr/bin/python3
"""Adds up the JUnit XML files left by scripts/run-tests and prints one
closing line, "N passed, N failed" (", N skipped" when some were), after
the name of every test that failed. A CTest entry backed by a cmocka
executable counts as its cmocka test cases; any other entry counts as one.
Exits 1 if anything failed or nothing ran."""
import os
import sys
import xml.etree.ElementTree as ET


def cases(path):
    """Yields (name, outcome) for each testcase in a JUnit file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        yield (f"{path}: unreadable results ({e})", "failed")
        return
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        if case.get("classname"):
            name = f"{case.get('classname')}::{name}"
        if case.find("failure") is not None or case.find("error") is not None:
            yield (name, "failed")
        elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            yield (name, "skipped")
        else:
            yield (name, "passed")


def preset_results(folder):
    unit = {}
    unit_dir = os.path.join(folder, "unit")
    for f in sorted(os.listdir(unit_dir)) if os.path.isdir(unit_dir) else []:
        unit[os.path.splitext(f)[0]] = list(cases(os.path.join(unit_dir, f)))
    out = []
    ctest = os.path.join(folder, "ctest.xml")
    if os.path.exists(ctest):
        for name, outcome in cases(ctest):
            short = name.split("::")[-1]
            group = short.split("/", 1)[-1]
            if short.startswith("unit/") and group in unit and unit[group]:
                expanded = unit[group]
                # A crash after the last case leaves cmocka's cases green.
                if outcome == "failed" and all(o != "failed" for _, o in expanded):
                    expanded = expanded + [(f"{short} (exited with failure)", "failed")]
                out.extend((f"{group}::{n.split('::')[-1]}", o) for n, o in expanded)
            else:
                out.append((short, outcome))
    else:
        out.append(("ctest: no results (did the build fail?)", "failed"))
    integ = os.path.join(folder, "integration.xml")
    if os.path.exists(integ):
        out.extend(cases(integ))
    else:
        out.append(("integration: no results", "failed"))
    web = os.path.join(folder, "web.xml")
    if os.path.exists(web):
        out.extend((f"web::{n.split('::')[-1]}", o) for n, o in cases(web))
    return out


def main():
    results = sys.argv[1]
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failures = []
    broken = os.path.join(results, "broken")
    if os.path.exists(broken):
        for line in open(broken):
            counts["failed"] += 1
            failures.append(line.strip())
    for preset in sorted(os.listdir(results)):
        folder = os.path.join(results, preset)
        if not os.path.isdir(folder):
            continue
        for name, outcome in preset_results(folder):
            counts[outcome] += 1
            if outcome == "failed":
                failures.append(f"[{preset}] {name}")
    for f in failures:
        print(f"FAILED {f}")
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    print(line)
    return 1 if counts["failed"] or not counts["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
