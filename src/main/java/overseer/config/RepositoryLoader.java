package overseer.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.JobParser;
import overseer.job.Problem;
import overseer.job.RepoSettings;

/**
 * Reads a configuration tree (a Git revision, a checkout, or a working copy for
 * {@code overseer validate}) into jobs and settings, reporting every problem. Repository content is
 * untrusted: links that leave the tree, oversized files and malformed documents are problems,
 * never crashes.
 */
public final class RepositoryLoader {
    public static final String SETTINGS_FILE = "overseer.yml";
    private static final int MAX_LINK_HOPS = 8;
    /** PATH_MAX less the terminating NUL: symlink(2) refuses a longer target. */
    private static final int MAX_LINK_TARGET_BYTES = 4095;

    private final JobParser parser;

    public RepositoryLoader(JobParser parser) {
        this.parser = parser;
    }

    /** What a tree holds. Jobs are only usable when {@code problems} is empty. */
    public record Loaded(Map<JobName, JobDefinition> jobs, RepoSettings settings, List<Problem> problems) {
        public Loaded {
            jobs = java.util.Collections.unmodifiableMap(new TreeMap<>(jobs));
            problems = List.copyOf(problems);
        }

        public boolean valid() {
            return problems.isEmpty();
        }
    }

    /** Where a path leads once links are followed. */
    private sealed interface Resolved {
        record File(ConfigTree.Entry entry) implements Resolved {}

        record Directory() implements Resolved {}

        record Missing() implements Resolved {}

        record Outside(String target) implements Resolved {}
    }

    private record JobFile(ConfigTree.Entry entry, String display, JobName name) {}

    /**
     * @param displayPrefix prepended to file names in problems (the sub-directory, if any)
     */
    public Loaded load(ConfigTree tree, String displayPrefix) throws IOException {
        return load(tree, displayPrefix, (done, total) -> {});
    }

    /** Told how many of the job files have been parsed, as they are (from several threads). */
    @FunctionalInterface
    public interface Parsed {
        void progress(int done, int total);
    }

    public Loaded load(ConfigTree tree, String displayPrefix, Parsed parsed) throws IOException {
        List<Problem> problems = new ArrayList<>();
        Map<String, ConfigTree.Entry> entries = tree.entries();
        List<JobFile> candidates = new ArrayList<>();
        Map<JobName, JobFile> byName = new HashMap<>();
        for (ConfigTree.Refused refused : tree.refused()) {
            problems.add(new Problem(
                    TreeNames.printable(display(refused.path(), displayPrefix)),
                    1,
                    1,
                    TreeNames.printable(refused.reason())));
        }
        problems.addAll(TreeNames.problems(entries.keySet(), p -> display(p, displayPrefix)));
        if (!problems.isEmpty()) {
            // A tree that can name its way out of the checkout is not looked at further.
            return new Loaded(Map.of(), RepoSettings.NONE, problems);
        }
        for (ConfigTree.Entry entry : entries.values()) {
            String display = display(entry.path(), displayPrefix);
            if (entry.kind() == ConfigTree.Kind.UNREADABLE) {
                // Whatever it holds would be missing silently: a job file, a directory of them.
                String why;
                try {
                    tree.read(entry);
                    why = "not readable";
                } catch (IOException e) {
                    why = e.getMessage();
                }
                problems.add(new Problem(display, 1, 1, "cannot read: " + why));
                continue;
            }
            if (entry.kind() == ConfigTree.Kind.SYMLINK) {
                Optional<String> unwritable = entry.size() > MAX_LINK_TARGET_BYTES
                        ? Optional.of("symbolic link's target is " + entry.size() + " bytes; a checkout allows at most "
                                + MAX_LINK_TARGET_BYTES)
                        : linkProblem(tree.read(entry));
                if (unwritable.isPresent()) {
                    problems.add(new Problem(display, 1, 1, unwritable.get()));
                    continue;
                }
                String target = new String(tree.read(entry), StandardCharsets.UTF_8);
                if (normalize(parent(entry.path()), target).isEmpty()) {
                    problems.add(new Problem(
                            display, 1, 1, "symbolic link points outside the repository (-> " + target + ")"));
                    continue;
                }
            }
            if (!isJobFile(entry.path())) {
                continue;
            }
            String base = entry.path().substring(entry.path().lastIndexOf('/') + 1);
            String name = base.substring(0, base.lastIndexOf('.'));
            if (!JobName.isValid(name)) {
                problems.add(new Problem(
                        display,
                        1,
                        1,
                        "job name '" + name + "' must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127} (rename the file)"));
                continue;
            }
            JobFile job = new JobFile(entry, display, new JobName(name));
            JobFile earlier = byName.putIfAbsent(job.name(), job);
            if (earlier != null) {
                problems.add(new Problem(
                        display, 1, 1, "job name '" + name + "' is already defined by " + earlier.display()));
                continue;
            }
            candidates.add(job);
        }

        RepoSettings settings = RepoSettings.NONE;
        if (entries.containsKey(SETTINGS_FILE)) {
            String display = display(SETTINGS_FILE, displayPrefix);
            Optional<String> text = readText(tree, SETTINGS_FILE, display, problems);
            if (text.isPresent()) {
                JobParser.SettingsResult result = parser.parseSettings(display, text.get());
                problems.addAll(result.problems());
                settings = result.settings();
            }
        }

        RepoSettings repoSettings = settings;
        JobParser.ScriptCheck scripts = path -> scriptProblem(tree, path);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<JobParser.Result> results = candidates.parallelStream()
                .map(f -> {
                    List<Problem> readProblems = new ArrayList<>();
                    JobParser.Result result = readText(tree, f.entry().path(), f.display(), readProblems)
                            .map(t -> parser.parseJob(f.display(), f.name(), t, scripts, repoSettings))
                            .orElseGet(() -> new JobParser.Result(Optional.empty(), readProblems));
                    parsed.progress(done.incrementAndGet(), candidates.size());
                    return result;
                })
                .toList();
        Map<JobName, JobDefinition> jobs = new HashMap<>();
        for (JobParser.Result result : results) {
            problems.addAll(result.problems());
            result.job().ifPresent(j -> jobs.put(j.name(), j));
        }
        problems.sort(Comparator.comparing(Problem::file)
                .thenComparingInt(Problem::line)
                .thenComparingInt(Problem::column));
        return new Loaded(jobs, settings, problems);
    }

    /** Why no checkout could make a link to {@code target}, if it cannot. */
    private static Optional<String> linkProblem(byte[] target) {
        if (target.length == 0) {
            return Optional.of("symbolic link has an empty target, which no checkout can make");
        }
        String text = new String(target, StandardCharsets.UTF_8);
        if (text.indexOf('\0') >= 0) {
            return Optional.of("symbolic link's target holds a NUL byte, which no checkout can make");
        }
        try {
            java.nio.file.Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            return Optional.of("symbolic link's target cannot be written to this server's disk: " + e.getReason());
        }
        return Optional.empty();
    }

    /** Job files: YAML or JSON, not hidden, not in a hidden directory, not in top-level bin/ or scripts/. */
    private static boolean isJobFile(String path) {
        if (path.equals(SETTINGS_FILE) || path.startsWith("bin/") || path.startsWith("scripts/")) {
            return false;
        }
        for (String segment : path.split("/")) {
            if (segment.startsWith(".")) {
                return false;
            }
        }
        return path.endsWith(".yml") || path.endsWith(".yaml") || path.endsWith(".json");
    }

    private static Optional<String> readText(ConfigTree tree, String path, String display, List<Problem> problems) {
        try {
            Resolved resolved = resolve(tree, path);
            if (!(resolved instanceof Resolved.File(ConfigTree.Entry entry))) {
                problems.add(new Problem(
                        display,
                        1,
                        1,
                        switch (resolved) {
                            case Resolved.Directory d -> "is a link to a directory, not a file";
                            case Resolved.Outside o -> "symbolic link resolves outside the repository";
                            default -> "is a dangling symbolic link";
                        }));
                return Optional.empty();
            }
            if (entry.size() > JobParser.MAX_FILE_BYTES) {
                problems.add(new Problem(
                        display,
                        1,
                        1,
                        "file is " + entry.size() + " bytes; the limit is " + JobParser.MAX_FILE_BYTES + " bytes"));
                return Optional.empty();
            }
            byte[] bytes = tree.read(entry);
            return Optional.of(StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString());
        } catch (CharacterCodingException e) {
            problems.add(new Problem(display, 1, 1, "file is not valid UTF-8"));
        } catch (IOException e) {
            problems.add(new Problem(display, 1, 1, "cannot read: " + e.getMessage()));
        }
        return Optional.empty();
    }

    private static Optional<String> scriptProblem(ConfigTree tree, String path) {
        String full = "scripts/" + path;
        try {
            return switch (resolve(tree, full)) {
                case Resolved.File(ConfigTree.Entry entry)
                when entry.kind() == ConfigTree.Kind.EXECUTABLE -> Optional.empty();
                case Resolved.File f ->
                    Optional.of("script '" + full + "' is not executable (chmod +x, and commit the mode)");
                case Resolved.Directory d -> Optional.of("script '" + full + "' is a directory");
                case Resolved.Outside o -> Optional.of("script '" + full + "' resolves outside the repository");
                case Resolved.Missing m -> Optional.of("script '" + full + "' does not exist");
            };
        } catch (IOException e) {
            return Optional.of("cannot read script '" + full + "': " + e.getMessage());
        }
    }

    /** Follows links inside the tree; a link that leaves it, or loops, is never followed out. */
    private static Resolved resolve(ConfigTree tree, String path) throws IOException {
        String current = path;
        for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
            ConfigTree.Entry entry = tree.entries().get(current);
            if (entry == null) {
                String prefix = current + "/";
                boolean directory =
                        current.isEmpty() || tree.entries().keySet().stream().anyMatch(k -> k.startsWith(prefix));
                return directory ? new Resolved.Directory() : new Resolved.Missing();
            }
            if (entry.kind() != ConfigTree.Kind.SYMLINK) {
                return new Resolved.File(entry);
            }
            String target = new String(tree.read(entry), StandardCharsets.UTF_8);
            Optional<String> next = normalize(parent(current), target);
            if (next.isEmpty()) {
                return new Resolved.Outside(target);
            }
            current = next.get();
        }
        return new Resolved.Missing();
    }

    /** {@code target} taken relative to directory {@code base}, or empty if it leaves the tree. */
    private static Optional<String> normalize(String base, String target) {
        if (target.startsWith("/")) {
            return Optional.empty();
        }
        List<String> parts = new ArrayList<>();
        String joined = base.isEmpty() ? target : base + "/" + target;
        for (String segment : joined.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                if (parts.isEmpty()) {
                    return Optional.empty();
                }
                parts.removeLast();
            } else {
                parts.add(segment);
            }
        }
        return Optional.of(String.join("/", parts));
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    private static String display(String path, String prefix) {
        return prefix.isEmpty() ? path : prefix + "/" + path;
    }
}
