"""Graph classifier speed and memory on CPU (or CUDA when present).

Run:  .venv/bin/python benchmarks/gcn.py [--quick]

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

    from posegraph.skeleton import get_layout
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
    arguments = parser.parse_args()
    import os

    print(f"{os.cpu_count()} cores; times are the mean of repeated runs after one warm-up")
    print(f"{'model':<6} {'layout':<12} {'train/s':>8} {'b1 T90':>9} {'b1 T300':>9} {'b32 T90':>9} "
          f"{'b32 T300':>9} {'peak MB':>8}")
    for model_name in ("stgcn", "msg3d"):
        for layout in ("blazepose33", "openpose18"):
            r = isolated(measure, model_name, layout, arguments.quick)
            print(f"{model_name:<6} {layout:<12} {r['train_samples_per_s']:8.1f} {r['latency_ms_b1_t90']:7.0f}ms "
                  f"{r['latency_ms_b1_t300']:7.0f}ms {r['latency_ms_b32_t90']:7.0f}ms {r['latency_ms_b32_t300']:7.0f}ms "
                  f"{r['peak_rss_mb']:8.0f}", flush=True)
    print("\nspatial graph convolution, N=16 C=64 T=90, spatial partitions (K=3):")
    for layout in ("openpose18", "blazepose33"):
        r = isolated(dense_versus_message_passing, layout, 3 if arguments.quick else 10)
        print(f"  {layout:<12} dense einsum {r['dense_ms']:6.1f} ms   torch-geometric message passing "
              f"{r['message_passing_ms']:6.1f} ms   ratio {r['ratio']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
