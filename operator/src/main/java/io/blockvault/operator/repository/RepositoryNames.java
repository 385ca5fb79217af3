package io.blockvault.operator.repository;

import io.blockvault.operator.Labels;
import java.util.List;

/** Names of the objects of a managed repository, all derived from the BackupRepository's name. */
public record RepositoryNames(String repository, String namespace) {

    public static final int PORT = 6162;
    public static final String APP = "blockvault-repository";

    /**
     * Service names are DNS-1035 labels (63 characters, no dots), repository names DNS subdomains
     * (253): long or dotted names are shortened with a hash.
     */
    public String base() {
        String base = repository + "-repository";
        if (base.length() <= 45 && !repository.contains(".")) {
            return base;
        }
        String cut = repository.replace('.', '-');
        cut = cut.substring(0, Math.min(cut.length(), 28)).replaceAll("-+$", "");
        return cut + "-" + Labels.hash(repository, 6) + "-repository";
    }

    public String statefulSet() {
        return base();
    }

    public String clientService() {
        return base();
    }

    public String headlessService() {
        return base() + "-headless";
    }

    public String caSecret() {
        return base() + "-ca";
    }

    public String tlsSecret() {
        return base() + "-tls";
    }

    public String encryptionKeySecret() {
        return base() + "-encryption-key";
    }

    /** host:port of the transport for clients in the cluster. */
    public String endpoint() {
        return clientService() + "." + namespace + ".svc:" + PORT;
    }

    /** Names the server certificate must carry: the client Service and the pods behind the headless one. */
    public List<String> serverDnsNames() {
        String svc = clientService();
        String headless = headlessService();
        return List.of(svc, svc + "." + namespace, svc + "." + namespace + ".svc",
                svc + "." + namespace + ".svc.cluster.local", "*." + headless + "." + namespace + ".svc",
                "*." + headless + "." + namespace + ".svc.cluster.local");
    }
}
