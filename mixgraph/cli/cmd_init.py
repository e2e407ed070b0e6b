"""mixgraph init --template NAME DIR [--name SONG] | mixgraph init --list"""

from __future__ import annotations

HELP = "start a new song folder from a bundled template (--list shows them)"


def add_arguments(p) -> None:
    p.add_argument("dir", metavar="DIR", nargs="?", help="folder to create (must not exist or be empty)")
    p.add_argument("--template", metavar="NAME[@VERSION]", help="bundled template (default: its newest version)")
    p.add_argument("--name", metavar="SONG", help="song name (default: the folder's name)")
    p.add_argument("--list", action="store_true", help="list the bundled templates")


def run(args) -> int:
    from mixgraph.api.init import describe_bundled, init_song
    from mixgraph.errors import UserError, printable

    if args.list:
        for name, versions, desc in describe_bundled():
            print(f"{name}@{max(versions)}  {desc}  (versions: {', '.join(str(v) for v in versions)})")
        return 0
    if not args.template or not args.dir:
        raise UserError("init needs --template NAME and a folder",
                        hint="Example: mixgraph init --template vocal-stack my-song (see mixgraph init --list).")
    r = init_song(args.dir, args.template, args.name)
    folder = printable(str(r.folder))
    print(f"created {folder}/session.yaml from {r.template}@{r.version}")
    print(f"next: put the stems in {folder}/stems/ (see stems/README.txt), then")
    print(f"      mixgraph validate {folder}/session.yaml && mixgraph render {folder}/session.yaml")
    return 0
