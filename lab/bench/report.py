#!/usr/bin/env python3
"""The report of lab/scenarios/bench.sh: tables and a timeline picture.

Reads DIR/results.tsv and the console of each hibernation (DIR/s4-*.console,
xenconsoled's lines with the kernel's printk.time stamps), writes
DIR/report.md and DIR/timeline-<run>.svg (DIR/timeline.svg: the first run),
and exits non-zero, naming what is missing, when a console does not give
every phase: the phases are read from the kernel's own messages, and a
kernel that no longer prints one must not yield a silently shorter table.

Phases come from the three kernels' clocks (the one that hibernated, the
one that loaded the image, the restored one); the host measured the rest
(from the request to the power-off, from the new domain's creation to the
guest's answer), and the "other" rows are what is left of those.
"""

import csv
import datetime
import os
import re
import statistics
import subprocess
import sys

STAMP = re.compile(r'^(?:\[[0-9: -]+\] )?\[ *([0-9]+\.[0-9]+)\] (.*)$')

# The phases of each kernel: (label, how, ...), where how is
#  'delta', START, END: the kernel's clock from the line matching START to
#           the next matching END (None: the kernel's last line), both in a
#           stretch where that clock runs on (it jumps where syscore suspend
#           and resume save and restore it);
#  'msecs', [REGEX...]: the sum of the PM core's "... after N msecs" lines.
HIBERNATING = [
    ('sync, freeze user space', 'delta', r'PM: hibernation: hibernation entry',
     r'Freezing user space processes completed'),
    ('preallocate image memory', 'delta', r'Freezing user space processes completed',
     r'PM: hibernation: Allocated [0-9]+ kbytes'),
    ('freeze kernel threads', 'delta', r'PM: hibernation: Allocated [0-9]+ kbytes',
     r'Freezing remaining freezable tasks completed'),
    ('freeze devices', 'msecs', [r'PM: freeze of devices complete']),
    ('late, noirq freeze', 'msecs', [r'PM: late freeze of devices complete',
                                     r'PM: noirq freeze of devices complete']),
    ('CPUs down, syscore, copy image', 'delta', r'PM: end freeze of devices complete',
     r'PM: hibernation: Image created'),
    ('thaw devices', 'msecs', [r'PM: noirq thaw of devices complete',
                               r'PM: early thaw of devices complete',
                               r'PM: thaw of devices complete']),
    ('write image', 'delta', r'PM: thaw of devices complete', r'PM: Image saving done'),
    ('power off', 'delta', r'PM: Image saving done', None),
]
LOADER = [
    ('loader: boot until resume', 'delta', r'^Linux version',
     r'PM: hibernation: resume from hibernation'),
    ('loader: freeze tasks, read image', 'delta', r'PM: hibernation: resume from hibernation',
     r'PM: Image loading done'),
    ('loader: quiesce devices', 'msecs', [r'PM: quiesce of devices complete',
                                          r'PM: late quiesce of devices complete',
                                          r'PM: noirq quiesce of devices complete']),
]
RESTORED = [
    ('restore devices', 'msecs', [r'PM: noirq restore of devices complete',
                                  r'PM: early restore of devices complete',
                                  r'PM: restore of devices complete']),
    ('thaw tasks', 'delta', r'PM: restore of devices complete',
     r'PM: hibernation: hibernation exit'),
]
MSECS = re.compile(r'after ([0-9]+\.[0-9]+) msecs')

COLOURS = {'hibernating': '#4e79a7', 'loader': '#f28e2b', 'restored': '#59a14f',
           'host': '#bab0ac'}


class Missing(Exception):
    pass


def stamped(lines):
    """(seconds, text) of the kernel's lines, in order."""
    out = []
    for line in lines:
        m = STAMP.match(line.rstrip('\r\n'))
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def first(lines, regex, start=0, what=''):
    for i in range(start, len(lines)):
        if re.search(regex, lines[i][1]):
            return i
    raise Missing(what or regex)


def phases(lines, spec, kernel):
    """[(label, seconds, kernel)] of one kernel's lines."""
    out = []
    for label, how, *args in spec:
        if how == 'delta':
            i = first(lines, args[0], 0, f'{kernel} kernel: "{args[0]}"')
            j = len(lines) - 1 if args[1] is None else \
                first(lines, args[1], i, f'{kernel} kernel: "{args[1]}"')
            secs = lines[j][0] - lines[i][0]
            if secs < 0:
                raise Missing(f'{kernel} kernel: its clock went back between '
                              f'"{args[0]}" and "{args[1]}"')
        else:
            secs = 0.0
            for regex in args[0]:
                m = MSECS.search(lines[first(lines, regex, 0, f'{kernel} kernel: "{regex}"')][1])
                secs += float(m.group(1)) / 1000 if m else 0.0
        out.append((label, secs, kernel))
    return out


def split_console(path):
    """The three kernels' stamped lines of one hibernation's console."""
    with open(path, errors='replace') as f:
        lines = stamped(f)
    h0 = first(lines, r'PM: hibernation: hibernation entry', 0, 'hibernation entry')
    l0 = first(lines, r'^Linux version', h0, 'the loading kernel\'s "Linux version"')
    q = first(lines, r'PM: noirq quiesce of devices complete', l0, 'loader: noirq quiesce')
    return lines[h0:l0], lines[l0:q + 1], lines[q + 1:]


def timeline(row, console):
    """The phases of one hibernation, the host's remainders included."""
    hib, load, rest = split_console(console)
    down, up = float(row['down_s']), float(row['up_s'])
    created = float(row['create_at_s'])
    if not rest:
        raise Missing('restored kernel: no line after the jump')
    h = phases(hib, HIBERNATING, 'hibernating')
    ld = phases(load, LOADER, 'loader')
    r = phases(rest, RESTORED, 'restored')
    other_down = down - sum(p[1] for p in h)
    other_up = up - sum(p[1] for p in ld + r)
    return ([('request, thaw, power-off seen by dom0 (other)', max(0.0, other_down), 'host')] +
            h +
            [('dom0: image check, xl create', max(0.0, created - down), 'host'),
             ('domain build, jump, answer (other)', max(0.0, other_up), 'host')] +
            ld + r)


def facts(console):
    """What the hibernating kernel said about its image."""
    with open(console, errors='replace') as f:
        text = f.read()
    out = {}
    m = re.search(r'Using [0-9]+ thread\(s\) for (\S+) compression', text)
    out['compressor'] = m.group(1) if m else 'none'
    m = re.search(r'PM: hibernation: Need to copy ([0-9]+) pages', text)
    out['image_kib'] = int(m.group(1)) * 4 if m else None
    return out


def svg(rows, title, path):
    """One bar per phase on a common time axis."""
    total = max(1e-9, sum(r[1] for r in rows))
    width, left, bar, top = 900, 330, 18, 40
    scale = (width - left - 20) / total
    y, t, out = top, 0.0, []
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
               f'height="{top + bar * len(rows) + 50}" font-family="sans-serif" font-size="12">')
    out.append(f'<text x="10" y="20" font-size="14">{title}</text>')
    for label, secs, kernel in rows:
        x = left + t * scale
        w = max(1.0, secs * scale)
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{bar - 4}" '
                   f'fill="{COLOURS[kernel]}"><title>{label}: {secs:.2f} s</title></rect>')
        out.append(f'<text x="{x + w + 4:.1f}" y="{y + 13}">{secs:.2f} s</text>')
        t += secs
        y += bar
    for s in range(0, int(total) + 1, max(1, int(total) // 10 or 1)):
        x = left + s * scale
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{y + 14}" text-anchor="middle">{s}</text>')
    out.append(f'<text x="{left}" y="{y + 32}">seconds; colours: ' +
               ', '.join(f'{k}' for k in COLOURS) + ' (blue, orange, green, grey)</text>')
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def source():
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = subprocess.run(['git', '-C', top, 'describe', '--always', '--dirty'],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = 'unknown'
    base = 'unknown'
    try:
        with open(os.path.join(top, 'kernel', 'bases', 'primary')) as f:
            primary = f.read().strip()
        with open(os.path.join(top, 'kernel', 'bases', primary + '.pin')) as f:
            for line in f:
                if line.startswith('VERSION='):
                    base = line.split('=', 1)[1].strip()
    except OSError:
        pass
    return commit, base


def key(r):
    return (r['mem_mib'], r['load'], r['compressor'], r['disks'], r['vifs'], r['repeat'], pm(r))


def pm(r):
    """How the PM core ran the device callbacks: async (the kernel's own way) or sync."""
    return r.get('pm') or 'async'


def devices(r):
    if r['disks'] == '-':
        return 'the lab guest\'s'
    return f"{r['disks']}, {r['vifs']}" + ('' if pm(r) == 'async' else f', {pm(r)}')


def tag(r):
    k = key(r)
    dv = '' if k[3] == '-' else f'-{k[3]}d{k[4]}v' + ('' if k[6] == 'async' else f'-{k[6]}')
    return f'{k[0]}-{k[1]}-{k[2]}{dv}-{k[5]}'


def devices_section(s4, timelines):
    """Part 3: device freeze and restore against the number of devices."""
    runs = [(r, tl) for r, (_, tl) in zip(s4, timelines) if r['disks'] != '-']
    if not runs:
        return []
    def phase(tl, label):
        return next(p[1] for p in tl if p[0] == label)
    def config(r):
        return (int(r['disks']), int(r['vifs']), pm(r) != 'async')
    base = min(config(r) for r, _ in runs)
    bf = [phase(tl, 'freeze devices') for r, tl in runs if config(r) == base]
    br = [phase(tl, 'restore devices') for r, tl in runs if config(r) == base]
    out = ['', '## 3. Devices', '',
           'The PM core\'s own times of the device phases, against the median of the runs with '
           f'the fewest devices ({base[0]} disks, {base[1]} vifs). Callbacks: async, '
           'the kernel\'s own way; sync, one device after the other in the hibernating and the '
           'restored kernel (`/sys/power/pm_async` 0; the loader quiesces its devices its own '
           'way).', '',
           '| disks | vifs | callbacks | # | freeze devices s | x | loader quiesce s | '
           'restore devices s | x |',
           '|---|---|---|---|---|---|---|---|---|']
    for r, tl in runs:
        f, q, rs = (phase(tl, 'freeze devices'), phase(tl, 'loader: quiesce devices'),
                    phase(tl, 'restore devices'))
        out.append(f'| {r["disks"]} | {r["vifs"]} | {pm(r)} | {r["repeat"]} | {f:.2f} | '
                   f'{ratio(f, statistics.median(bf))} | '
                   f'{q:.2f} | {rs:.2f} | {ratio(rs, statistics.median(br))} |')
    return out + devices_summary(runs, config, phase, bf, br)


def devices_summary(runs, config, phase, bf, br):
    """Part 3 over the repeats: each configuration's median against the base's,
    and the range of that ratio (its fastest repeat over the base's slowest, its
    slowest over the base's fastest)."""
    configs = {}
    for r, tl in runs:
        c = configs.setdefault(config(r), (r, [], []))
        c[1].append(phase(tl, 'freeze devices'))
        c[2].append(phase(tl, 'restore devices'))
    if max(len(f) for _, f, _ in configs.values()) < 2:
        return []
    def against(t, b):
        return (f'{statistics.median(t):.2f} | {ratio(statistics.median(t), statistics.median(b))} | '
                f'{ratio(min(t), max(b))}-{ratio(max(t), min(b))}')
    out = ['', 'Over the repeats (median, x the base\'s median, and the range of x):', '',
           '| disks | vifs | callbacks | repeats | freeze devices s | x | range | '
           'restore devices s | x | range |',
           '|---|---|---|---|---|---|---|---|---|---|']
    for r, f, rs in configs.values():
        out.append(f'| {r["disks"]} | {r["vifs"]} | {pm(r)} | {len(f)} | {against(f, bf)} | '
                   f'{against(rs, br)} |')
    return out


def io_section(out):
    """Part 4: the I/O path, the series' kernel against Debian's own, round by round."""
    path = os.path.join(out, 'io.tsv')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    fig = {(r['kernel'], r['round'], r['job']): float(r['kib_s'] if r['iops'] == '-' else r['iops'])
           for r in rows}
    jobs = list(dict.fromkeys(r['job'] for r in rows))
    rounds = sorted({r['round'] for r in rows}, key=int)
    out = ['', '## 4. The I/O path', '',
           'The Debian guest with the series\' kernel (`make deb`) and with Debian\'s own of the '
           'same version and configuration, each booted afresh, in turn, the order swapped every '
           'round. fio on the data disk (libaio, direct; IOPS), and a TCP stream from dom0 over '
           'the vif (MiB/s). series/stock per round, its median and its range.', '',
           '| job | unit | stock | series | ' + ' | '.join(f'#{r}' for r in rounds) +
           ' | median | range |',
           '|---|---|---|---|' + '---|' * len(rounds) + '---|---|']
    for j in jobs:
        tcp = j.startswith('tcp-')
        ratios, st, se = [], [], []
        for r in rounds:
            a, b = fig.get(('stock', r, j)), fig.get(('series', r, j))
            if a is not None:
                st.append(a / 1024 if tcp else a)
            if b is not None:
                se.append(b / 1024 if tcp else b)
            ratios.append(b / a if a and b is not None else None)
        cols = ' | '.join('-' if x is None else f'{x:.2f}' for x in ratios)
        out.append(f'| {j} | {"MiB/s" if tcp else "IOPS"} | {mean(st):.0f} | {mean(se):.0f} | '
                   f'{cols} | {spread([x for x in ratios if x is not None])} |')
    return out


def mean(values):
    return sum(values) / len(values) if values else 0


def spread(values):
    """'median | lo-hi' of a list of ratios, '- | -' without any."""
    if not values:
        return '- | -'
    return f'{statistics.median(values):.2f} | {min(values):.2f}-{max(values):.2f}'


def repeats_section(s4, xl):
    """Part 1's ratios over the repeats of each run: median and range."""
    runs = {}
    for r in s4:
        x = xl.get(key(r))
        if not x:
            continue
        k = key(r)[:5] + key(r)[6:]
        t = (float(r['down_s']) + float(r['up_s'])) / (float(x['down_s']) + float(x['up_s']))
        b = int(r['disk_kib']) / int(x['disk_kib']) if int(x['disk_kib']) else None
        runs.setdefault(k, ([], []))
        runs[k][0].append(t)
        if b is not None:
            runs[k][1].append(b)
    if not runs or max(len(t) for t, _ in runs.values()) < 2:
        return []
    out = ['', 'Over the repeats (median and range):', '',
           '| memory MiB | load | compressor | repeats | S4/xl time | range | S4/xl bytes | range |',
           '|---|---|---|---|---|---|---|---|']
    for k, (t, b) in runs.items():
        out.append(f'| {k[0]} | {k[1]} | {k[2]} | {len(t)} | {spread(t)} | {spread(b)} |')
    return out


def ratio(a, b):
    return f'{a / b:.2f}' if b else '-'


def main(out):
    with open(os.path.join(out, 'results.tsv')) as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    s4 = [r for r in rows if r['method'] == 's4']
    xl = {key(r): r for r in rows if r['method'] == 'xl'}
    if not s4:
        raise Missing('no hibernation in results.tsv')
    commit, base = source()
    md = [f'# Hibernation next to Xen save/restore ({commit}, base {base}, '
          f'{datetime.date.today()})', '',
          'Absolute times are of this lab only (Xen under QEMU/TCG); the ratios are the '
          'result. Down: from the request to the domain gone (hibernation) or to `xl save` '
          'done; up: from `xl create` or `xl restore` to the guest answering. Bytes: what '
          'the swap file grew by, and the size of the save file.', '',
          '## 1. Downtime and bytes', '',
          '| memory MiB | load | compressor | disks, vifs | # | S4 down s | S4 up s | S4 total s | '
          'save s | restore s | xl total s | S4/xl time | S4 MiB | image MiB | xl MiB | S4/xl bytes |',
          '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    timelines = []
    for r in s4:
        k = key(r)
        x = xl.get(k)
        console = os.path.join(out, r['console'])
        fx = facts(console)
        want = r['compressor']
        if fx['compressor'] != want:
            raise Missing(f'{r["console"]}: the image was written with {fx["compressor"]}, '
                          f'not {want}')
        sd, su = float(r['down_s']), float(r['up_s'])
        xd, xu = (float(x['down_s']), float(x['up_s'])) if x else (0.0, 0.0)
        sk, xk = int(r['disk_kib']), int(x['disk_kib']) if x else 0
        xcols = (f'{xd:.1f} | {xu:.1f} | {xd + xu:.1f} | {ratio(sd + su, xd + xu)}' if x
                 else '- | - | - | -')
        md.append(f'| {k[0]} | {k[1]} | {k[2]} | {devices(r)} | {k[5]} | {sd:.1f} | {su:.1f} | '
                  f'{sd + su:.1f} | {xcols} | {sk / 1024:.0f} | '
                  f'{(fx["image_kib"] or 0) / 1024:.0f} | '
                  f'{f"{xk / 1024:.0f}" if x else "-"} | {ratio(sk, xk) if x else "-"} |')
        timelines.append((tag(r), timeline(r, console)))
    md += repeats_section(s4, xl)
    md += ['', '## 2. Where a hibernation\'s time goes', '',
           'Seconds per phase, from the kernels\' own clocks (`printk.time`); the rows marked '
           'other are what the host measured beyond them. Picture: `timeline.svg` (first run), '
           '`timeline-<run>.svg`.', '']
    md.append('| phase | kernel | ' + ' | '.join(t for t, _ in timelines) + ' |')
    md.append('|---|---|' + '---|' * len(timelines))
    for i, (label, _, kernel) in enumerate(timelines[0][1]):
        md.append(f'| {label} | {kernel} | ' +
                  ' | '.join(f'{tl[i][1]:.2f}' for _, tl in timelines) + ' |')
    md += devices_section(s4, timelines)
    md += io_section(out)
    for t, tl in timelines:
        svg(tl, f'Hibernation of a Xen guest, {t} (MiB-load-compressor[-disks,vifs[-sync]]-repeat), {commit}',
            os.path.join(out, f'timeline-{t}.svg'))
    svg(timelines[0][1], f'Hibernation of a Xen guest, {timelines[0][0]}, {commit}',
        os.path.join(out, 'timeline.svg'))
    with open(os.path.join(out, 'report.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')


if __name__ == '__main__':
    try:
        main(sys.argv[1])
    except Missing as e:
        sys.exit(f'report.py: missing from the bench\'s records: {e}')
