package io.blockvault.repository.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * Kubernetes ServiceAccount tokens, checked with a TokenReview that names this repository's
 * audience (so a token minted for anything else is refused by the API server). The operator's
 * ServiceAccount becomes the operator identity; the agents' ServiceAccount becomes the node its pod
 * runs on, from the token's {@code authentication.kubernetes.io/node-name} extra (a pod-bound,
 * projected token). Anything else is refused.
 */
public final class TokenReviewAuthenticator implements Authenticator {

    static final String NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

    private final URI server;
    private final HttpClient http;
    private final Path credentials;
    private final String audience;
    private final String agentUser;
    private final String operatorUser;
    private final ObjectMapper json = new ObjectMapper();

    public TokenReviewAuthenticator(URI server, SSLContext tls, Path credentials, String audience, String agentUser,
            String operatorUser) {
        this.server = server;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
        this.credentials = credentials;
        this.audience = audience;
        this.agentUser = agentUser;
        this.operatorUser = operatorUser;
    }

    @Override
    public Identity authenticate(String token) throws RepositoryException {
        JsonNode status;
        try {
            ObjectNode body = json.createObjectNode();
            body.put("apiVersion", "authentication.k8s.io/v1");
            body.put("kind", "TokenReview");
            ObjectNode spec = body.putObject("spec");
            spec.put("token", token);
            spec.putArray("audiences").add(audience);
            String own = Files.readString(credentials).trim();
            HttpRequest req = HttpRequest.newBuilder(server.resolve("/apis/authentication.k8s.io/v1/tokenreviews"))
                    .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + own)
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build();
            HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 201 && resp.statusCode() != 200) {
                throw new RepositoryException(Reason.INTERNAL, "TokenReview at " + server + " answered HTTP "
                        + resp.statusCode() + "; check the repository's RBAC (system:auth-delegator) and credentials");
            }
            status = json.readTree(resp.body()).path("status");
        } catch (IOException e) {
            if (e instanceof RepositoryException r) {
                throw r;
            }
            throw new RepositoryException(Reason.INTERNAL, "TokenReview at " + server + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException(Reason.INTERNAL, "interrupted during TokenReview", e);
        }
        if (!status.path("authenticated").asBoolean(false)) {
            String why = status.path("error").asText("");
            throw new RepositoryException(Reason.UNAUTHENTICATED, "the Kubernetes API server rejected the token"
                    + (why.isEmpty() ? "" : ": " + why) + " (it must be a valid ServiceAccount token for audience '"
                    + audience + "')");
        }
        boolean audienceOk = false;
        for (JsonNode a : status.path("audiences")) {
            audienceOk |= audience.equals(a.asText());
        }
        if (!audienceOk) {
            throw new RepositoryException(Reason.UNAUTHENTICATED, "the token is not meant for audience '" + audience + "'");
        }
        String user = status.path("user").path("username").asText("");
        if (user.equals(operatorUser)) {
            return Identity.operator(user);
        }
        if (user.equals(agentUser)) {
            JsonNode node = status.path("user").path("extra").path(NODE_NAME_EXTRA);
            String name = node.isArray() && node.size() == 1 ? node.get(0).asText() : "";
            if (name.isEmpty()) {
                throw new RepositoryException(Reason.UNAUTHENTICATED, "the agent token of " + user + " is not bound to a "
                        + "pod on a node; mount a projected ServiceAccount token with audience '" + audience + "'");
            }
            return Identity.node(name);
        }
        throw new RepositoryException(Reason.FORBIDDEN, user + " is neither the agents' (" + agentUser
                + ") nor the operator's (" + operatorUser + ") ServiceAccount");
    }
}
