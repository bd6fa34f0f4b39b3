"""The cluster's command-line parts: `cluster up|down|deploy`, and `--ray` for `build` and `serve`.

qa/cli.py calls `extend` once; nothing here imports Ray until a cluster command runs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def extend(sub, build: argparse.ArgumentParser, serve: argparse.ArgumentParser) -> None:
    """Add the `cluster` command and the `--ray` options of `build` and `serve` to the command line."""
    about = "start or stop a local Ray cluster, or deploy the shards on a cluster"
    c = sub.add_parser("cluster", help=about, description=about)
    verbs = c.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="start a local multi-node Ray cluster on 127.0.0.1 and print its address")
    up.add_argument("--nodes", type=int, default=3, help="nodes, the head included (default 3)")
    up.add_argument("--cpus-per-node", type=int, default=1, help="CPUs each node offers (default 1)")
    up.set_defaults(func=cmd_up)
    verbs.add_parser("down", help="stop the local cluster started by `cluster up`").set_defaults(func=cmd_down)
    deploy = verbs.add_parser("deploy", help="deploy the published shards as Serve deployments")
    deploy.add_argument("--ray", required=True, metavar="ADDRESS", help="the cluster's address (host:port)")
    deploy.add_argument("--replicas", type=int, default=1, help="replicas of each shard (default 1)")
    deploy.add_argument("--index", dest="index_dir", type=Path, help="index folder (QA_INDEX_DIR, default index/)")
    deploy.set_defaults(func=lambda args: _prepared(cmd_deploy, args))
    for p, verb in ((build, "build on"), (serve, "serve the shards from")):
        p.add_argument("--ray", metavar="ADDRESS", help=f"{verb} the Ray cluster at ADDRESS (host:port)")
    build.add_argument("--shards", type=int, default=2, help="with --ray: shards to split the articles into "
                       "(default 2)")
    serve.add_argument("--replicas", type=int, default=1, help="with --ray: replicas of each shard (default 1)")
    build.set_defaults(func=_either(cmd_build, build.get_default("func")))
    serve.set_defaults(func=_either(cmd_serve, serve.get_default("func")))


def _either(on_cluster, alone):
    """The cluster's command when --ray is given, the single machine's otherwise."""
    return lambda args: _prepared(on_cluster, args) if args.ray else alone(args)


def _prepared(command, args: argparse.Namespace) -> int:
    """A cluster command, with Ray set to keep a loopback cluster on loopback before anything imports it."""
    from qa.cluster import prepare

    prepare(args.ray)
    return command(args)


def cmd_up(args: argparse.Namespace) -> int:
    """Start a local cluster and print its address."""
    from qa.cluster import local

    address = local.up(args.nodes, args.cpus_per_node)
    print(address)
    print(f"{args.nodes} nodes of {args.cpus_per_node} CPU on 127.0.0.1; use it with --ray {address}; "
          "stop it with: python -m qa cluster down", file=sys.stderr)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the local cluster."""
    from qa.cluster import local

    address = local.down()
    print(f"stopped the local cluster at {address}" if address else "no local cluster was running")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploy the published set's shards on the cluster."""
    from qa.cli import _config
    from qa.cluster import serving

    names, refused = serving.deploy(args.ray, _config(args), args.replicas)
    print(f"deployed {len(names)} shards with {args.replicas} replicas each: {', '.join(names)}")
    for name, reason in refused.items():
        print(f"error: {name} refused: {reason}", file=sys.stderr)
    return 3 if refused and not names else 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build a sharded index with the passages embedded on the cluster."""
    from qa.cli import UsageError, _config, _embedder, _report
    from qa.cluster.embedding import ClusterEmbedder
    from qa.index import shards
    from qa.ingest import articles as articles_mod

    config = _config(args)
    if args.shards < 1:
        raise UsageError(f"--shards must be at least 1, not {args.shards}")
    found, problems = articles_mod.load_folder(config.seeds_dir)
    for problem in problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    if not found:
        raise UsageError(f"no usable article in {config.seeds_dir}; nothing to index")
    embedder = _embedder(config)
    with ClusterEmbedder(args.ray, config, embedder) as remote:
        manifest = shards.build(config, found, embedder, args.shards, problems, progress=True, shard_embedder=remote)
    _report(manifest, config, f"built {len(manifest['shards'])} shards on {args.ray}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Deploy the shards (in a child process, so the front end forks with no Ray connection), then serve."""
    from qa.cli import UsageError, _config
    from qa.serve.gunicorn import serve

    config = _config(args)
    if args.replicas < 1:
        raise UsageError(f"--replicas must be at least 1, not {args.replicas}")
    command = [sys.executable, "-m", "qa", "cluster", "deploy", "--ray", args.ray, "--replicas", str(args.replicas),
               "--index", str(config.index_dir)]
    if subprocess.run(command).returncode != 0:
        raise UsageError(f"could not deploy the shards of {config.index_dir} on {args.ray}; see the message above")

    def open_service(settings):
        from qa.cluster.serving import ClusterService

        return ClusterService(settings, args.ray)

    serve(config, open_service)
    return 0
