"""``emocast evaluate``: judge a talking-head video with models that did not make it."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="judge a video: emotion, identity, lip sync, stability (and FID / LSE with weights)",
        description="Judge a talking-head video against the portrait and audio it was made from, with judges "
                    "independent of the generator: FER2013 emotion classifier (fer package weights), dlib face "
                    "descriptor (identity), dlib 68-point mouth aperture vs the audio (lip sync), landmark "
                    "jitter and background motion (stability).",
        epilog="example:\n  emocast evaluate out.mp4 --image portrait.jpg --audio speech.wav --emotion fear --json figures.json\n\n"
               "lip_sync.offset_frames > 0 means the audio lags the video (a sound comes after the mouth movement "
               "that matches it);\ndelaying the audio track by n frames adds n. A real talking face reads about +3 "
               "(the mouth moves ahead of the sound).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("video", help="video to judge (mp4)")
    p.add_argument("--image", required=True, help="the portrait the video was made from")
    p.add_argument("--audio", required=True, help="the speech the video should be synced to")
    p.add_argument("--emotion", help="intended MEAD emotion: neutral happy sad angry fear disgusted surprised "
                                     "contempt (contempt is not judged: FER2013 has no such class)")
    p.add_argument("--transcript", help="words spoken in the audio (better phone timings)")
    p.add_argument("--json", metavar="PATH", help="also write all figures (per frame too) as JSON")
    p.add_argument("--syncnet", metavar="PATH", help="SyncNet weights (syncnet_v2.model) for LSE-D / LSE-C")
    p.add_argument("--inception", metavar="PATH", help="TorchScript Inception (inception-2015-12-05.pt) for FID")
    p.add_argument("--reference", metavar="DIR", help="folder of reference images/videos for FID")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ..evaluate import evaluate, format_table
    from ..evaluate.core import limit_threads

    limit_threads()
    if args.json:
        from ..media.files import check_writable

        check_writable(args.json)  # fail before minutes of judging
    res = evaluate(args.video, args.image, args.audio, emotion=args.emotion, transcript=args.transcript,
                   syncnet=args.syncnet, inception=args.inception, reference=args.reference,
                   progress=not args.quiet)
    print(format_table(res))
    if args.json:
        from ..media.files import write_json

        write_json(args.json, res)
        print(f"figures written to {args.json}")
    return 0
