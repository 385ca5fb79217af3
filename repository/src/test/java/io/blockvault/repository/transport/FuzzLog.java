package io.blockvault.repository.transport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.ResourceBundle;

/**
 * The transport's log, kept in memory for the log oracle: a line with an exception attached (the
 * transport's branch for failures it did not expect) or at ERROR means the server met something it
 * did not handle. Refusals are logged without one.
 */
final class FuzzLog implements System.Logger {

    record Line(Level level, String message, Throwable thrown) {
        boolean unexpected() {
            // the transport's branch for failures it did not expect always attaches the exception
            return thrown != null || level == Level.ERROR || message.contains("internal error");
        }
    }

    private final List<Line> lines = Collections.synchronizedList(new ArrayList<>());

    int size() {
        return lines.size();
    }

    List<Line> since(int from) {
        synchronized (lines) {
            return List.copyOf(lines.subList(Math.min(from, lines.size()), lines.size()));
        }
    }

    @Override
    public String getName() {
        return "fuzz";
    }

    @Override
    public boolean isLoggable(Level level) {
        return true;
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        lines.add(new Line(level, String.valueOf(msg), thrown));
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        lines.add(new Line(level, params == null ? String.valueOf(format)
                : java.text.MessageFormat.format(format, params), null));
    }
}
