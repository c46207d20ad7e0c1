#!/usr/bin/python3
"""Relays one TCP connection from a DICOM requestor to an acceptor and records both directions.

    record.py LISTEN_PORT TARGET_PORT OUT_PREFIX

Writes OUT_PREFIX.pdu (what the requestor sent: the input of the PDU fuzz target) and OUT_PREFIX-answer.pdu
(what the acceptor answered: A-ASSOCIATE-AC/RJ, responses, A-RELEASE-RP). Prints "listening" once the port is
open, exits when both sides have closed. Used by capture.sh.
"""
import socket
import sys
import threading


def relay(source, destination, record):
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        record.extend(data)
        try:
            destination.sendall(data)
        except OSError:
            break
    try:
        destination.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    listen_port, target_port, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(1)
    print("listening", flush=True)
    client, _ = listener.accept()
    server = socket.create_connection(("127.0.0.1", target_port))
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent, answered = bytearray(), bytearray()
    threads = [threading.Thread(target=relay, args=(client, server, sent)),
               threading.Thread(target=relay, args=(server, client, answered))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    server.close()
    with open(prefix + ".pdu", "wb") as f:
        f.write(sent)
    with open(prefix + "-answer.pdu", "wb") as f:
        f.write(answered)


if __name__ == "__main__":
    main()
