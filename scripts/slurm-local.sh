#!/usr/bin/env bash
# Installs Slurm from Debian (slurm-wlm, munge) and starts a one-node cluster on this machine, for
# the sweep test that submits a real array job (TESSERA_SLURM=1). Meant for CI and throwaway
# machines: it writes /etc/slurm/slurm.conf and runs as root. No systemd is needed: munged,
# slurmctld and slurmd are started directly, and the script waits until the node is idle.
#
#   scripts/slurm-local.sh           install if needed, (re)start the daemons, wait for the node
#   scripts/slurm-local.sh --stop    stop the daemons this script started
#   scripts/slurm-local.sh --status  print sinfo, or exit 1 when the cluster is not up
#
# Everything it does is logged under /var/log/slurm; on failure it prints those logs and exits 1.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
NODE=$(hostname -s 2>/dev/null || hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
NODE=${NODE%%.*}
CPUS=$(nproc)
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
WAIT_S=${TESSERA_SLURM_WAIT_S:-90}

log() { echo "slurm-local: $*" >&2; }

dump_logs() {
  for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
    [ -f "$f" ] || continue
    echo "----- tail of $f" >&2
    $SUDO tail -n 40 "$f" >&2 || true
  done
}

die() {
  log "error: $*"
  dump_logs
  exit 1
}

stop_daemons() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile" 2>/dev/null || true)
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        $SUDO kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      $SUDO rm -f "$pidfile"
    fi
  done
}

case "${1:-}" in
  --stop)
    stop_daemons
    if [ -f /run/munge/munged.pid ]; then
      $SUDO kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    fi
    exit 0
    ;;
  --status)
    sinfo -h -o '%n %T' 2>/dev/null | grep -q . || exit 1
    sinfo
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: $0 [--stop|--status]" >&2
    exit 2
    ;;
esac

# 1. Packages. policy-rc.d keeps the package scripts from starting services (there may be no init
# system); the daemons are started below by hand.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm and munge"
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  ok=0
  for attempt in 1 2 3; do
    if $SUDO apt-get install -y --no-install-recommends slurm-wlm munge; then ok=1; break; fi
    log "apt-get install failed (attempt $attempt); updating the package lists and retrying"
    $SUDO apt-get update || true
    sleep 2
  done
  [ "$created_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
  [ "$ok" = 1 ] || die "cannot install slurm-wlm and munge"
fi

# 2. munge: a key, its directories owned by the munge user, and the daemon.
id munge >/dev/null 2>&1 || $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin munge
$SUDO mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating a munge key"
  if command -v mungekey >/dev/null; then
    $SUDO mungekey --create --keyfile=/etc/munge/munge.key --force
  else
    $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
fi
$SUDO chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
$SUDO chmod 0700 /etc/munge /var/lib/munge /var/log/munge
$SUDO chmod 0755 /run/munge
$SUDO chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "starting munged"
  if [ -f /run/munge/munged.pid ]; then $SUDO kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; sleep 0.5; fi
  $SUDO rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
  if [ "$(id -u)" = 0 ]; then
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
  else
    $SUDO -u munge /usr/sbin/munged || die "munged did not start"
  fi
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munge does not work (munge -n | unmunge)"
fi

# 3. slurm.conf: one node on localhost, no cgroups (containers often lack them), no accounting.
# Never more CPUs than slurmd itself detects (the node would be drained as "Low CPUs").
DETECTED=$(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9][0-9]*\).*/\1/p' | head -n 1 || true)
if [ -n "$DETECTED" ] && [ "$DETECTED" -lt "$CPUS" ]; then CPUS=$DETECTED; fi
$SUDO mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
$SUDO tee "$CONF_DIR/slurm.conf" >/dev/null <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster on this machine.
ClusterName=tessera
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# 4. Daemons: restarted so that they read this configuration.
stop_daemons
log "starting slurmctld and slurmd (node $NODE, $CPUS CPUs)"
$SUDO slurmctld -c || die "slurmctld did not start"
$SUDO slurmd -N "$NODE" || die "slurmd did not start"

# 5. Wait until the node is idle (resume it once if it came up down or drained).
resumed=0
deadline=$((SECONDS + WAIT_S))
state=""
while [ $SECONDS -lt $deadline ]; do
  state=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain* | fail*)
      if [ $resumed = 0 ]; then
        $SUDO scontrol update nodename="$NODE" state=resume 2>/dev/null || true
        resumed=1
      fi
      ;;
  esac
  sleep 1
done
case "$state" in
  idle | mixed | allocated) ;;
  *) die "node $NODE is not idle after ${WAIT_S}s (state '${state:-unknown}')" ;;
esac
log "cluster up: node $NODE is $state"
sinfo >&2
