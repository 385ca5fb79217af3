package io.blockvault.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.util.Map;

/** Prints results: one JSON object on stdout with {@code --json}, else readable lines. */
final class Output {

    private final ObjectMapper mapper = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    private final PrintStream out;

    Output(PrintStream out) {
        this.out = out;
    }

    void json(Map<String, Object> object) {
        try {
            out.println(mapper.writeValueAsString(object));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
        out.flush();
    }

    void line(String text) {
        out.println(text);
        out.flush();
    }
}
