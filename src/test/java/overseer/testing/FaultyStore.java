package overseer.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * A fault-injecting decorator around a real {@link Store}: {@link #failCall} makes the Nth call
 * (counted from now) of a chosen method throw, every other call goes to the real store. Used to
 * prove that each background service recovers from one failed store call.
 */
public final class FaultyStore implements InvocationHandler {
    private record Plan(AtomicInteger remaining, int times, Supplier<? extends Throwable> fault, boolean after) {}

    private final Store real;

    private record Hold(
            AtomicInteger remaining,
            java.util.concurrent.CountDownLatch inside,
            java.util.concurrent.CountDownLatch release,
            boolean after) {
        void await(String name) throws InterruptedException {
            inside.countDown();
            if (!release.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError("a held " + name + " was not released within 30 s");
            }
        }
    }

    private final Map<String, Plan> plans = new ConcurrentHashMap<>();
    private final Map<String, Hold> holds = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

    private FaultyStore(Store real) {
        this.real = real;
    }

    /** A store that behaves as {@code real} until told otherwise, and the handle that tells it. */
    public static Store wrap(Store real, java.util.function.Consumer<FaultyStore> handle) {
        FaultyStore faults = new FaultyStore(real);
        handle.accept(faults);
        return (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class}, faults);
    }

    /** The {@code nth} call of {@code method} from now (1 = the next) throws a StoreException. */
    public void failCall(String method, int nth) {
        failCalls(method, nth, 1, () -> new StoreException("injected failure of " + method, null));
    }

    /** From the {@code nth} call of {@code method} on, {@code times} calls in a row throw {@code fault}. */
    public void failCalls(String method, int nth, int times, Supplier<? extends Throwable> fault) {
        if (nth < 1 || times < 1) {
            throw new IllegalArgumentException("nth and times must be at least 1");
        }
        plans.put(method, new Plan(new AtomicInteger(nth), times, fault, false));
    }

    /**
     * The {@code nth} call of {@code method} goes to the real store and then throws {@code fault}:
     * what a crash right after a committed call leaves.
     */
    public void failAfterCall(String method, int nth, Supplier<? extends Throwable> fault) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be at least 1");
        }
        plans.put(method, new Plan(new AtomicInteger(nth), 1, fault, true));
    }

    /**
     * The {@code nth} call of {@code method} counts {@code inside} down and waits for
     * {@code release} before it goes to the real store: a test holds one writer in the middle of
     * its write and does what it wants to race with it, in a known order.
     */
    public void holdCall(
            String method,
            int nth,
            java.util.concurrent.CountDownLatch inside,
            java.util.concurrent.CountDownLatch release) {
        hold(method, nth, inside, release, false);
    }

    /**
     * The {@code nth} call of {@code method} goes to the real store, then counts {@code inside}
     * down and waits for {@code release} before it returns: the write is committed and its caller
     * does not know yet.
     */
    public void holdAfterCall(
            String method,
            int nth,
            java.util.concurrent.CountDownLatch inside,
            java.util.concurrent.CountDownLatch release) {
        hold(method, nth, inside, release, true);
    }

    private void hold(
            String method,
            int nth,
            java.util.concurrent.CountDownLatch inside,
            java.util.concurrent.CountDownLatch release,
            boolean after) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be at least 1");
        }
        holds.put(method, new Hold(new AtomicInteger(nth), inside, release, after));
    }

    /** How many times {@code method} has been called through this decorator. */
    public int calls(String method) {
        AtomicInteger n = calls.get(method);
        return n == null ? 0 : n.get();
    }

    /** How many injected failures {@code method} has thrown. */
    public int failures(String method) {
        AtomicInteger n = failures.get(method);
        return n == null ? 0 : n.get();
    }

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return switch (name) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "FaultyStore(" + real + ")";
            };
        }
        calls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        Hold hold = holds.get(name);
        if (hold != null && hold.remaining().decrementAndGet() == 0) {
            if (hold.after()) {
                Object result = call(method, args);
                hold.await(name);
                return result;
            }
            hold.await(name);
        }
        Plan plan = plans.get(name);
        if (plan != null) {
            int left = plan.remaining().decrementAndGet();
            // left == 0 is the nth call; the next times-1 calls fail too.
            if (left <= 0 && left > -plan.times()) {
                failures.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                if (plan.after()) {
                    call(method, args);
                }
                throw plan.fault().get();
            }
        }
        return call(method, args);
    }

    private Object call(java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
