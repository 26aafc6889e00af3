#!/usr/bin/env bash
# s4-net-multiqueue: s4-net with 2 vCPUs and 2 queues on the vif, restored
# onto a backend that offers a single queue.
export NET_NAME=netmq NET_VCPUS=2 NET_MIN_QUEUES=2 NET_QUEUES_AFTER=1
exec bash "$(dirname "$0")/s4-net.sh"
