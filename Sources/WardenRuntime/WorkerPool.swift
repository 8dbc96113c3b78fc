#if canImport(Glibc)
import Glibc
#endif

/// Runs jobs that may block (a blocking connect or send performed for the agent) on
/// threads of their own, reusing up to `keepIdle` idle threads so that a job costs a
/// wake-up rather than a thread creation. A job never waits for another job: when no idle
/// thread exists a new one starts.
final class WorkerPool: @unchecked Sendable {
    /// The process-wide pool.
    static let shared = WorkerPool(keepIdle: 4, maxThreads: 256)

    private final class Worker: @unchecked Sendable {
        var job: (@Sendable () -> Void)?
        var sem = sem_t()
        init() { sem_init(&sem, 0, 0) }
    }

    private var lock = pthread_mutex_t()
    private var idle: [Worker] = []
    private var threads = 0
    private let keepIdle: Int
    private let maxThreads: Int

    init(keepIdle: Int, maxThreads: Int) {
        self.keepIdle = keepIdle
        self.maxThreads = maxThreads
        pthread_mutex_init(&lock, nil)
    }

    /// Starts `job` on an idle or a new thread; false if no thread could be started (at
    /// most `maxThreads` exist, so an agent cannot exhaust the supervisor with calls that
    /// block forever).
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        pthread_mutex_lock(&lock)
        if let w = idle.popLast() {
            w.job = job
            pthread_mutex_unlock(&lock)
            sem_post(&w.sem)
            return true
        }
        guard threads < maxThreads else { pthread_mutex_unlock(&lock); return false }
        threads += 1
        pthread_mutex_unlock(&lock)
        let w = Worker()
        w.job = job
        if NetworkMediator.detach({ [self] in self.loop(w) }) { return true }
        pthread_mutex_lock(&lock); threads -= 1; pthread_mutex_unlock(&lock)
        return false
    }

    private func loop(_ w: Worker) {
        while true {
            if let job = w.job { w.job = nil; job() }
            pthread_mutex_lock(&lock)
            if idle.count >= keepIdle {
                threads -= 1
                pthread_mutex_unlock(&lock)
                return
            }
            idle.append(w)
            pthread_mutex_unlock(&lock)
            while sem_wait(&w.sem) != 0 && errno == EINTR {}
        }
    }
}
