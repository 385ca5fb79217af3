package io.blockvault.repository.transport;

import io.blockvault.repository.format.Names;

/** Who is calling: the node agent of one node, or the operator. */
public record Identity(Kind kind, String name) {

    public enum Kind { NODE, OPERATOR }

    public Identity {
        if (kind == Kind.NODE) {
            Names.requireNode(name);
        }
    }

    public static Identity node(String node) {
        return new Identity(Kind.NODE, node);
    }

    public static Identity operator(String name) {
        return new Identity(Kind.OPERATOR, name);
    }

    @Override
    public String toString() {
        return kind == Kind.NODE ? "node:" + name : "operator:" + name;
    }
}
