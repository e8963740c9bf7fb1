package overseer.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
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
import overseer.job.Position;
import overseer.job.Problem;
import overseer.job.RepoSettings;

/**
 * Reads a configuration directory (a checkout, or a working copy for {@code overseer validate})
 * into jobs and settings, reporting every problem. Repository content is untrusted: links that
 * leave the directory, oversized files and malformed documents are problems, never crashes.
 */
public final class RepositoryLoader {
    public static final String SETTINGS_FILE = "overseer.yml";

    private final JobParser parser;

    public RepositoryLoader(JobParser parser) {
        this.parser = parser;
    }

    /** What a directory holds. Jobs are only usable when {@code problems} is empty. */
    public record Loaded(Map<JobName, JobDefinition> jobs, RepoSettings settings, List<Problem> problems) {
        public Loaded {
            jobs = java.util.Collections.unmodifiableMap(new TreeMap<>(jobs));
            problems = List.copyOf(problems);
        }

        public boolean valid() {
            return problems.isEmpty();
        }
    }

    private record JobFile(Path path, String display, JobName name) {}

    /**
     * @param root the directory holding the job files
     * @param displayPrefix prepended to file names in problems (the sub-directory, if any)
     */
    public Loaded load(Path root, String displayPrefix) throws IOException {
        Path realRoot = root.toRealPath();
        List<Problem> problems = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        Files.walkFileTree(realRoot, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (!dir.equals(realRoot) && dir.getFileName().toString().startsWith(".")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String display = display(realRoot, file, displayPrefix);
                if (attrs.isSymbolicLink()) {
                    Optional<String> problem = linkProblem(realRoot, file);
                    if (problem.isPresent()) {
                        problems.add(new Problem(display, 1, 1, problem.get()));
                        return FileVisitResult.CONTINUE;
                    }
                }
                Path relative = realRoot.relativize(file);
                String top = relative.getNameCount() > 1 ? relative.getName(0).toString() : "";
                if (!top.equals("bin") && !top.equals("scripts") && isJobFile(relative)) {
                    candidates.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                problems.add(new Problem(display(realRoot, file, displayPrefix), 1, 1, "cannot read: " + e.getMessage()));
                return FileVisitResult.CONTINUE;
            }
        });

        RepoSettings settings = RepoSettings.NONE;
        Path settingsFile = realRoot.resolve(SETTINGS_FILE);
        if (Files.isRegularFile(settingsFile, LinkOption.NOFOLLOW_LINKS)) {
            String display = display(realRoot, settingsFile, displayPrefix);
            Optional<String> text = readText(settingsFile, display, problems);
            if (text.isPresent()) {
                JobParser.SettingsResult result = parser.parseSettings(display, text.get());
                problems.addAll(result.problems());
                settings = result.settings();
            }
        }

        Map<JobName, JobFile> byName = new HashMap<>();
        List<JobFile> files = new ArrayList<>();
        candidates.sort(Comparator.comparing(Path::toString));
        for (Path file : candidates) {
            String display = display(realRoot, file, displayPrefix);
            String base = file.getFileName().toString();
            String name = base.substring(0, base.lastIndexOf('.'));
            if (!JobName.isValid(name)) {
                problems.add(new Problem(display, 1, 1, "job name '" + name
                        + "' must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127} (rename the file)"));
                continue;
            }
            JobFile job = new JobFile(file, display, new JobName(name));
            JobFile earlier = byName.putIfAbsent(job.name(), job);
            if (earlier != null) {
                problems.add(new Problem(display, 1, 1, "job name '" + name + "' is already defined by " + earlier.display()));
                continue;
            }
            files.add(job);
        }

        RepoSettings repoSettings = settings;
        JobParser.ScriptCheck scripts = path -> scriptProblem(realRoot, path);
        List<JobParser.Result> results = files.parallelStream().map(f -> {
            List<Problem> readProblems = new ArrayList<>();
            Optional<String> text = readText(f.path(), f.display(), readProblems);
            return text.map(t -> parser.parseJob(f.display(), f.name(), t, scripts, repoSettings))
                    .orElseGet(() -> new JobParser.Result(Optional.empty(), readProblems));
        }).toList();
        Map<JobName, JobDefinition> jobs = new HashMap<>();
        for (JobParser.Result result : results) {
            problems.addAll(result.problems());
            result.job().ifPresent(j -> jobs.put(j.name(), j));
        }
        problems.sort(Comparator.comparing(Problem::file).thenComparingInt(Problem::line).thenComparingInt(Problem::column));
        return new Loaded(jobs, settings, problems);
    }

    private static boolean isJobFile(Path relative) {
        String name = relative.getFileName().toString();
        if (relative.getNameCount() == 1 && name.equals(SETTINGS_FILE)) {
            return false;
        }
        return name.endsWith(".yml") || name.endsWith(".yaml") || name.endsWith(".json");
    }

    private static Optional<String> readText(Path file, String display, List<Problem> problems) {
        try {
            long size = Files.size(file);
            if (size > JobParser.MAX_FILE_BYTES) {
                problems.add(new Problem(display, 1, 1, "file is " + size + " bytes; the limit is "
                        + JobParser.MAX_FILE_BYTES + " bytes"));
                return Optional.empty();
            }
            return Optional.of(Files.readString(file));
        } catch (CharacterCodingException e) {
            problems.add(new Problem(display, 1, 1, "file is not valid UTF-8"));
        } catch (IOException e) {
            problems.add(new Problem(display, 1, 1, "cannot read: " + e.getMessage()));
        }
        return Optional.empty();
    }

    /** A symbolic link is fine only when what it points at is inside the repository. */
    private static Optional<String> linkProblem(Path root, Path link) {
        try {
            Path target = Files.readSymbolicLink(link);
            Path resolved = link.getParent().resolve(target).normalize();
            if (!resolved.startsWith(root)) {
                return Optional.of("symbolic link points outside the repository (-> " + target + ")");
            }
            if (Files.exists(resolved) && !resolved.toRealPath().startsWith(root)) {
                return Optional.of("symbolic link resolves outside the repository (-> " + target + ")");
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot read symbolic link: " + e.getMessage());
        }
    }

    private static Optional<String> scriptProblem(Path root, String path) {
        Path scripts = root.resolve("scripts");
        Path script = scripts.resolve(path).normalize();
        if (!script.startsWith(scripts)) {
            return Optional.of("script '" + path + "' is outside scripts/");
        }
        if (!Files.exists(script)) {
            return Optional.of("script 'scripts/" + path + "' does not exist");
        }
        try {
            if (!script.toRealPath().startsWith(root)) {
                return Optional.of("script 'scripts/" + path + "' resolves outside the repository");
            }
        } catch (IOException e) {
            return Optional.of("cannot read script 'scripts/" + path + "': " + e.getMessage());
        }
        if (!Files.isRegularFile(script)) {
            return Optional.of("script 'scripts/" + path + "' is not a regular file");
        }
        if (!Files.isExecutable(script)) {
            return Optional.of("script 'scripts/" + path + "' is not executable (chmod +x, and commit the mode)");
        }
        return Optional.empty();
    }

    private static String display(Path root, Path file, String prefix) {
        String relative = root.relativize(file).toString().replace('\\', '/');
        return prefix.isEmpty() ? relative : prefix + "/" + relative;
    }
}
