#!/usr/bin/env bash
# The Kafka container of infra/compose.yaml: the same broker as infra/stack.sh's (server.properties.in: SASL/SCRAM
# users, ACLs, no anonymous access), listening for this machine on 29092 and for the app containers on kafka:9094.
# Passwords come from the environment (GRID_KAFKA_PASSWORD_<USER>, set in .env beside compose.yaml). Storage
# formatted before the broker required SASL gets its users through one start with a listener on which admin logs
# in with SASL/PLAIN, as infra/stack.sh does.
set -euo pipefail
USERS=(admin web intake stream) # infra/lib.sh KAFKA_USERS
DATA=/var/lib/kafka/data
CONF=/tmp/gridcmd/server.properties
KAFKA=/opt/kafka/bin
mkdir -p /tmp/gridcmd "$DATA"
umask 077

password() {
  local name="GRID_KAFKA_PASSWORD_${1^^}"
  [[ -n ${!name:-} ]] || { echo "$name is not set (put it in .env beside compose.yaml)" >&2; exit 1; }
  printf '%s' "${!name}"
}

# render [PLAIN]: the config; with PLAIN, for the start that adds the users.
render() {
  sed -e "s|@PORT@|29092|g" -e "s|@CONTROLLER_PORT@|29093|g" -e "s|@DATA_DIR@|$DATA|g" \
    -e "s|@ADMIN_PASSWORD@|$(password admin)|g" -e "s|@CONTROLLER_PASSWORD@|$(password controller)|g" \
    /grid/kafka/server.properties.in >"$CONF"
  cat >>"$CONF" <<EOF
# compose: this machine on 127.0.0.1:29092, the app containers on kafka:9094 (the same users and ACLs).
listeners=CLIENT://:29092,CONTROLLER://127.0.0.1:29093,INTERNAL://:9094${1:+,USERS://127.0.0.1:29094}
advertised.listeners=CLIENT://127.0.0.1:29092,INTERNAL://kafka:9094${1:+,USERS://127.0.0.1:29094}
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,USERS:SASL_PLAINTEXT
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.users.sasl.enabled.mechanisms=PLAIN
listener.name.users.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
  user_admin="$(password admin)";
EOF
  # For the health check and the users step: admin's client login.
  local module=scram.ScramLoginModule
  [[ ${1:-} != PLAIN ]] || module=plain.PlainLoginModule
  cat >/tmp/gridcmd/admin.properties <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=${1:-SCRAM-SHA-512}
sasl.jaas.config=org.apache.kafka.common.security.$module required username="admin" password="$(password admin)";
EOF
}

add_users() {
  local user
  render PLAIN
  "$KAFKA/kafka-server-start.sh" "$CONF" &
  local tries=0
  until "$KAFKA/kafka-broker-api-versions.sh" --bootstrap-server 127.0.0.1:29094 \
    --command-config /tmp/gridcmd/admin.properties >/dev/null 2>&1; do
    ((++tries < 120)) || { echo "kafka did not answer admin on 127.0.0.1:29094 within 120 s" >&2; exit 1; }
    sleep 1
  done
  for user in "${USERS[@]}"; do
    "$KAFKA/kafka-configs.sh" --bootstrap-server 127.0.0.1:29094 --command-config /tmp/gridcmd/admin.properties \
      --alter --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[password=$(password "$user")]"
  done
  "$KAFKA/kafka-server-stop.sh"
  wait
}

if [[ ! -f $DATA/meta.properties ]]; then
  render
  scram=()
  for user in "${USERS[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password "$user")]"); done
  "$KAFKA/kafka-storage.sh" format --cluster-id "${CLUSTER_ID:?}" --config "$CONF" "${scram[@]}"
  touch "$DATA/gridcmd-users.done"
elif [[ ! -f $DATA/gridcmd-users.done ]]; then
  add_users
  touch "$DATA/gridcmd-users.done"
fi
render
exec "$KAFKA/kafka-server-start.sh" "$CONF"
