package io.blockvault.repository.client;

import io.blockvault.repository.format.Names;

/** A restore point by node and id. */
public record PointRef(String node, String pointId) {

    public PointRef {
        Names.requireNode(node);
        Names.requirePoint(pointId);
    }

    @Override
    public String toString() {
        return node + "/" + pointId;
    }
}
