package io.blockvault.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Runs the annotated test class against the JVM's shared real kube-apiserver, and injects
 * {@link KubernetesClient} and {@link KubeApiServer} parameters.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(WithKubeApiServer.Extension.class)
public @interface WithKubeApiServer {

    /** Resolves the parameters; starting the server is left to the first test that asks. */
    final class Extension implements ParameterResolver {

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            Class<?> type = parameter.getParameter().getType();
            return type == KubernetesClient.class || type == KubeApiServer.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            KubeApiServer api = KubeApiServer.shared();
            return parameter.getParameter().getType() == KubeApiServer.class ? api : api.client();
        }
    }
}
