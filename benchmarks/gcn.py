"""Graph classifier speed and memory on CPU (or CUDA when present).

Run:  .venv/bin/python benchmarks/gcn.py [--quick] [--section speedups|table|sparse]

``speedups`` (issue 10): for ST-GCN and MS-G3D on openpose18 (N=16, T=90, one person), training
samples per second of the plain eager model — the graph convolution in the reference's order
(1x1 conv, then the adjacency product: what the official code does) — and of each optimisation,
with its speed-up over that plain model, all measured in one process, interleaved round by round
(best round of each counts), after checking that the optimised model gives the same outputs
(float tolerance) from the same weights:
  - fused graph convolution (the adjacency product first, over fewer channels, no permuted copy;
    the shipped default);
  - + channels-last memory format;
  - + ``torch.compile`` (skipped with the reason when it fails);
  - + bfloat16 autocast (changes results beyond float tolerance: reported, not a default);
and inference latency at batch 1, T=90 for the same variants. On a CUDA machine the same runs use
the GPU with N=64.

For ST-GCN and MS-G3D on blazepose33 and openpose18 (one person):
  - training samples per second (batch 16, T=90, forward + backward + SGD step);
  - inference latency for batch 1 and 32 at T=90 and T=300;
  - peak resident memory of a fresh process doing that work (ru_maxrss);
and, in the same run, ST-GCN's dense graph convolution (an einsum over the (K, V, V)
partitions) against a torch-geometric MessagePassing version of the same operation, as a
ratio of times. Each configuration runs in its own spawned process so peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time


def _timed(function, repeats: int) -> float:
    function()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def measure(model_name: str, layout: str, quick: bool) -> dict:
    import torch

    from posegraph.gcn import build_model
    from posegraph.skeleton import get_layout

    torch.manual_seed(0)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    joints = get_layout(layout).num_joints
    model = build_model(model_name, layout, num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = torch.randn(16, 3, 90, joints, 1)
    target = torch.randint(0, 10, (16,))

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(batch), target).backward()
        optimizer.step()

    model.train()
    result = {"model": model_name, "layout": layout, "train_samples_per_s": 16 / _timed(step, 1 if quick else 3)}
    model.eval()
    with torch.no_grad():
        for size in (1, 32):
            for frames in (90, 300):
                data = torch.randn(size, 3, frames, joints, 1)
                repeats = 1 if (quick or size == 32) else 5
                result[f"latency_ms_b{size}_t{frames}"] = 1000 * _timed(lambda: model(data), repeats)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def dense_versus_message_passing(layout: str, repeats: int) -> dict:
    import torch
    from torch_geometric.nn import MessagePassing

    from posegraph.skeleton.graph import partitions

    class PartitionPropagation(MessagePassing):
        """sum_k A_k^T x_k as sparse message passing over the partition's non-zero entries."""

        def __init__(self) -> None:
            super().__init__(aggr="add", node_dim=-2)

        def forward(self, x, edge_index, edge_weight):
            return self.propagate(edge_index, x=x, edge_weight=edge_weight)

        def message(self, x_j, edge_weight):
            return edge_weight.view(-1, 1) * x_j

    adjacency = partitions(layout, "spatial")
    partitions_count, joints = adjacency.shape[0], adjacency.shape[1]
    x = torch.randn(16, partitions_count, 64, 90, joints)  # after the 1x1 conv: (N, K, C, T, V)
    propagation = PartitionPropagation()
    edges = [adjacency[k].nonzero().t() for k in range(partitions_count)]  # row = source v, col = target w
    weights = [adjacency[k][edge[0], edge[1]] for k, edge in zip(range(partitions_count), edges)]

    def dense():
        return torch.einsum("nkctv,kvw->nctw", x, adjacency)

    def sparse():
        total = 0
        for k in range(partitions_count):
            nodes = x[:, k].permute(0, 2, 3, 1).reshape(-1, joints, 64)  # (N*T, V, C)
            total = total + propagation(nodes, edges[k], weights[k])
        return total.view(16, 90, joints, 64).permute(0, 3, 1, 2)

    with torch.no_grad():
        torch.testing.assert_close(dense(), sparse(), rtol=1e-4, atol=1e-4)
        dense_time, sparse_time = _timed(dense, repeats), _timed(sparse, repeats)
    return {"layout": layout, "dense_ms": 1000 * dense_time, "message_passing_ms": 1000 * sparse_time,
            "ratio": sparse_time / dense_time}


def _reference_order(model) -> None:
    """Switch a model's graph convolutions back to the reference's order (the plain eager baseline)."""
    from posegraph.gcn import msg3d, stgcn

    for module in model.modules():
        if isinstance(module, stgcn.GraphConv):
            module.forward = lambda x, adjacency, conv=module.conv: stgcn.reference_graph_conv(conv, x, adjacency)
        elif isinstance(module, msg3d.MultiScaleGCN):
            module.forward = module.reference_forward


def speedups(model_name: str, rounds: int, use_compile: bool, frames: int = 90, only: tuple[str, ...] = ()) -> dict:
    """Training samples/s and b1 latency of each optimisation, interleaved in this process."""
    import copy
    import os

    import torch

    from posegraph.gcn import build_model

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    batch_size = 64 if cuda else 16
    torch.manual_seed(0)
    base = build_model(model_name, "openpose18", num_classes=15)
    data = torch.randn(batch_size, 3, frames, 18, 1, device=device)
    target = torch.randint(0, 15, (batch_size,), device=device)
    single = data[:1]
    variants: dict[str, dict] = {}

    def variant(name: str, reference: bool = False, channels_last: bool = False, compiled: bool = False,
                bfloat16: bool = False, mode: str | None = None) -> None:
        if only and name not in ("plain eager (reference order)", "fused graph conv (default)") \
                and not any(part in name for part in only):
            return
        model = copy.deepcopy(base).to(device)
        if reference:
            _reference_order(model)
        runner = model
        try:
            if channels_last:
                model = runner = model.to(memory_format=torch.channels_last)
            if compiled:
                runner = torch.compile(model, mode=mode)
                runner(data)  # compile now, so a failure shows here
        except Exception as error:  # noqa: BLE001 - any backend or layout failure: report and go on
            variants[name] = {"skipped": f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"}
            return
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        variants[name] = {"model": model, "runner": runner, "optimizer": optimizer, "bfloat16": bfloat16,
                          "train": [], "latency": []}

    variant("plain eager (reference order)", reference=True)
    variant("fused graph conv (default)")
    variant("fused + channels-last", channels_last=True)
    if use_compile:
        variant("fused + torch.compile", compiled=True)
    variant("fused + bfloat16 autocast", bfloat16=True)
    if use_compile and cuda:
        variant("fused + compile + bfloat16", compiled=True, bfloat16=True)
        variant("fused + compile, CUDA graphs", compiled=True, mode="reduce-overhead")
        variant("fused + compile, CUDA graphs + bf16", compiled=True, bfloat16=True, mode="reduce-overhead")

    def step(entry: dict) -> None:
        entry["optimizer"].zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=entry["bfloat16"]):
            loss = torch.nn.functional.cross_entropy(entry["runner"](data).float(), target)
        loss.backward()
        entry["optimizer"].step()

    def synchronise() -> None:
        if cuda:
            torch.cuda.synchronize()

    reference = variants["plain eager (reference order)"]
    fused = variants["fused graph conv (default)"]
    fused["model"].load_state_dict(reference["model"].state_dict())
    with torch.no_grad():
        reference["model"].eval(), fused["model"].eval()
        torch.testing.assert_close(fused["model"](data), reference["model"](data), rtol=1e-3, atol=1e-3)
    active = {name: entry for name, entry in variants.items() if "skipped" not in entry}
    for entry in active.values():
        entry["model"].train()
        step(entry)  # warm-up
    for _ in range(rounds):
        for entry in active.values():
            entry["model"].train()
            synchronise()
            started = time.perf_counter()
            step(entry)
            step(entry)
            synchronise()
            entry["train"].append((time.perf_counter() - started) / 2)
            entry["model"].eval()
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=entry["bfloat16"]):
                entry["runner"](single)
                synchronise()
                started = time.perf_counter()
                for _ in range(5):
                    entry["runner"](single)
                synchronise()
                entry["latency"].append((time.perf_counter() - started) / 5)
    base_time = min(reference["train"])
    base_latency = min(reference["latency"])
    rows = []
    for name, entry in variants.items():
        if "skipped" in entry:
            rows.append({"variant": name, "skipped": entry["skipped"]})
            continue
        rows.append({"variant": name, "samples_per_s": batch_size / min(entry["train"]),
                     "speedup": base_time / min(entry["train"]), "latency_ms": 1000 * min(entry["latency"]),
                     "latency_speedup": base_latency / min(entry["latency"])})
    device_name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    return {"model": model_name, "device": device_name, "batch": batch_size, "frames": frames, "rows": rows,
            "threads": os.environ.get("OMP_NUM_THREADS")}


def print_speedups(quick: bool, use_compile: bool, frames: int = 90, models: tuple[str, ...] = ("stgcn", "msg3d"),
                   only: tuple[str, ...] = ()) -> None:
    for model_name in models:
        result = isolated(speedups, model_name, 2 if quick else 5, use_compile, frames, only)
        print(f"\n{model_name} openpose18, N={result['batch']}, T={frames}, one person, {result['device']}:")
        print(f"  {'variant':<34} {'train samples/s':>16} {'speed-up':>9} {f'b1 T{frames} ms':>10} {'speed-up':>9}")
        for row in result["rows"]:
            if "skipped" in row:
                print(f"  {row['variant']:<34} skipped: {row['skipped']}")
                continue
            print(f"  {row['variant']:<34} {row['samples_per_s']:16.1f} {row['speedup']:8.2f}x "
                  f"{row['latency_ms']:10.1f} {row['latency_speedup']:8.2f}x", flush=True)


def _child(queue, function, arguments) -> None:
    queue.put(function(*arguments))


def isolated(function, *arguments):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, function, arguments))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition everywhere")
    parser.add_argument("--section", choices=("all", "speedups", "table", "sparse"), default="all")
    parser.add_argument("--no-compile", dest="compile", action="store_false", help="leave torch.compile out")
    parser.add_argument("--frames", type=int, default=90, help="clip length T of the speed-up section")
    parser.add_argument("--models", nargs="+", default=["stgcn", "msg3d"], choices=("stgcn", "msg3d"))
    parser.add_argument("--only", nargs="+", default=[], metavar="TEXT",
                        help="speed-up variants whose name contains TEXT (beside the eager and fused baselines)")
    arguments = parser.parse_args()
    if arguments.section in ("all", "speedups"):
        print_speedups(arguments.quick, arguments.compile, arguments.frames, tuple(arguments.models),
                       tuple(arguments.only))
    if arguments.section in ("all", "table"):
        print_table(arguments.quick)
    if arguments.section in ("all", "sparse"):
        print_sparse(arguments.quick)


def print_table(quick: bool) -> None:
    import os

    print(f"\n{os.cpu_count()} cores; times are the mean of repeated runs after one warm-up")
    print(f"{'model':<6} {'layout':<12} {'train/s':>8} {'b1 T90':>9} {'b1 T300':>9} {'b32 T90':>9} "
          f"{'b32 T300':>9} {'peak MB':>8}")
    for model_name in ("stgcn", "msg3d"):
        for layout in ("blazepose33", "openpose18"):
            r = isolated(measure, model_name, layout, quick)
            print(f"{model_name:<6} {layout:<12} {r['train_samples_per_s']:8.1f} {r['latency_ms_b1_t90']:7.0f}ms "
                  f"{r['latency_ms_b1_t300']:7.0f}ms {r['latency_ms_b32_t90']:7.0f}ms {r['latency_ms_b32_t300']:7.0f}ms "
                  f"{r['peak_rss_mb']:8.0f}", flush=True)


def print_sparse(quick: bool) -> None:
    print("\nspatial graph convolution, N=16 C=64 T=90, spatial partitions (K=3):")
    for layout in ("openpose18", "blazepose33"):
        r = isolated(dense_versus_message_passing, layout, 3 if quick else 10)
        print(f"  {layout:<12} dense einsum {r['dense_ms']:6.1f} ms   torch-geometric message passing "
              f"{r['message_passing_ms']:6.1f} ms   ratio {r['ratio']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
