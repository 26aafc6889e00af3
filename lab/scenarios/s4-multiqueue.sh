#!/usr/bin/env bash
# s4-multiqueue: s4-pvh with 2 vcpus, so that every disk has several rings.
# lab-min-s: 300
S4_VCPUS=2 S4_MIN_RINGS=2 S4_NAME=mq exec bash "$(dirname "$0")/s4-pvh.sh"
