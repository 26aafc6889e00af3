#!/usr/bin/env bash
# s4-net-multiqueue: s4-net with 2 vCPUs and 2 queues on the vif, restored
# onto a vif that differs: its backend offers a single queue and the
# toolstack gave it another MAC address.
export NET_NAME=netmq NET_LOADER_BINDS_VIF=1 NET_VCPUS=2 NET_MIN_QUEUES=2 NET_QUEUES_AFTER=1 NET_MAC_AFTER=00:16:3e:5a:00:12
# lab-min-s: 380
exec bash "$(dirname "$0")/s4-net.sh"
