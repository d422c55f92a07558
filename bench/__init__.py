"""Benchmarks of avs-failback at scale: start-up, big vaults, the ARM read budget and bytes on the wire."""
