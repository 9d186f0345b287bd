"""``emocast batch``: make every video of a job list, resumably, on local workers or a Ray cluster."""
from __future__ import annotations

import argparse
import sys

EPILOG = """job list (CSV with a header row, or JSONL with one object a line):
  id,portrait,audio,text,emotion,intensity,size
  anna-happy,portraits/anna.jpg,speech/hello.wav,,happy,0.8,512
  ben-fear,portraits/ben.png,,Who is there?,trembling with fear,,

  portrait and one of audio/text are needed; id and output are optional (default OUT/<id>.mp4);
  every other column is a generation option by its usual name (see emocast generate --help).
  Relative paths are relative to the job list.

examples:
  emocast batch jobs.csv -o out/                      # one worker process
  emocast batch jobs.csv -o out/ --workers 2          # two local processes, models loaded once each
  emocast batch jobs.jsonl -o out/ --ray              # a local Ray; --ray ray://head:10001 for a cluster
  emocast batch jobs.csv -o out/ --retry              # again: finished jobs are skipped, failed ones redone

On a Ray cluster every node needs emocast installed and the job list's files and OUT/ at the same
paths (a shared file system); the driver (this command) writes the table.

The job table is OUT/jobs.sqlite (status, attempts, error, timings, output hash per job). Exit status
1 when any job failed, 2 when the job list has bad rows (all are listed, by line).
"""


def add_parser(sub) -> None:
    from ..options import add_arguments

    p = sub.add_parser("batch", help="make every video of a job list (CSV/JSONL), resumably, locally or on Ray",
                       description=__doc__.split(":", 1)[1].strip(), epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("jobs", help="job list: .csv (header row) or .jsonl")
    p.add_argument("--output", "-o", required=True, help="folder of the videos and of the job table")
    p.add_argument("--workers", "-j", type=int, default=1,
                   help="worker processes, or Ray actors with --ray (default: 1; with --ray 0 = one per cluster CPU)")
    p.add_argument("--ray", nargs="?", const=True, default=None, metavar="ADDRESS",
                   help="run the jobs as Ray actors: a local Ray, or the cluster at ADDRESS")
    p.add_argument("--retry", action="store_true", help="run the jobs that failed in an earlier run again")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    g = p.add_argument_group("defaults for cells a row leaves empty")
    add_arguments(g)
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the batch; print the summary table; 1 when any job failed."""
    from ..batching.jobs import JobListError
    from ..batching.run import batch, summary
    from ..options import from_args

    if args.workers < 0 or (args.workers == 0 and not args.ray):
        print("emocast: error: --workers: must be at least 1 (0 only with --ray)", file=sys.stderr)
        return 2
    try:
        result = batch(args.jobs, args.output, workers=args.workers, ray=args.ray, retry=args.retry,
                       options=from_args(args), progress=not args.quiet,
                       log=lambda m: print(f"failed: {m}", file=sys.stderr))
    except JobListError as e:
        for line in e.problems:
            print(f"emocast: error: {line}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0 if result.ok else 1
