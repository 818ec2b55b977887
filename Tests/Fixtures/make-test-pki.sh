#!/usr/bin/env bash
# Makes a throwaway PKI for one test in DIR, with openssl only:
#   ca.pem/ca.key            the test CA
#   server.pem/server.key    broker certificate for localhost and 127.0.0.1
#   client.pem/client.key    a device certificate signed by the CA (CN=$CLIENT_CN, default tracker-1)
#   other-ca.pem             a CA that signed nothing here (a "wrong CA" for clients)
#   rogue.pem/rogue.key      a client certificate signed by other-ca (the broker does not trust it)
#   wronghost.pem/.key       a broker certificate for wrong.example (host name mismatch)
#   expired.pem/.key         a broker certificate valid only in January 2020
set -euo pipefail
dir=$1
cn=${CLIENT_CN:-tracker-1}
cd "$dir"
key() { openssl ecparam -genkey -name prime256v1 -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=trackerd test CA" -days 3 -out ca.pem 2>/dev/null
key other-ca.key
openssl req -x509 -new -key other-ca.key -subj "/CN=some other CA" -days 3 -out other-ca.pem 2>/dev/null

sign() { # name subject san ca
    local name=$1 subject=$2 san=$3 ca=${4:-ca}
    key "$name.key"
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 2 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}
sign server "/CN=localhost" "DNS:localhost,IP:127.0.0.1"
sign client "/CN=$cn" "DNS:$cn"
sign rogue "/CN=$cn" "DNS:$cn" other-ca
sign wronghost "/CN=wrong.example" "DNS:wrong.example"

# An expired broker certificate needs explicit dates: `openssl ca` takes them.
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
CNF
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -out expired.csr 2>/dev/null
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20200131000000Z -notext 2>/dev/null
rm -f expired.csr
