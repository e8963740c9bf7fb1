package overseer;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The jar's entry class, compiled for Java 8 so that an old {@code java} can load it: it says in
 * one line which Java Overseer needs and which one this is, instead of an {@code
 * UnsupportedClassVersionError}, and otherwise hands over to {@link Main}.
 */
public final class Launch {
    private static final int NEEDED = 25;

    private Launch() {}

    public static void main(String[] args) throws Throwable {
        String version = System.getProperty("java.specification.version", "0");
        if (major(version) < NEEDED) {
            String java = System.getProperty("java.home", "?") + File.separator + "bin" + File.separator + "java";
            System.err.println("Overseer needs Java " + NEEDED + " or newer; this is " + version + " at " + java
                    + " (set JAVA_HOME to a JDK " + NEEDED + ", or use bin/overseer, which finds one)");
            System.exit(2);
        }
        Method main = Class.forName("overseer.Main").getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** "1.8" is 8, "17" is 17, "25" is 25. */
    private static int major(String version) {
        String v = version.startsWith("1.") ? version.substring(2) : version;
        int end = 0;
        while (end < v.length() && Character.isDigit(v.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
    }
}
