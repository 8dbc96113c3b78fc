/// Finds the simplest argument vector in a cube minus a union of cubes (`region \ holes`).
///
/// Best-first search over disjoint sub-cubes: the cube whose smallest vector is simplest
/// is taken next; if no remaining hole meets it, its smallest vector is the answer (no other
/// pending cube holds a simpler one, as `simplerArguments` is monotone); if any hole contains
/// it, it is dropped; otherwise it is split by the first hole meeting it into disjoint pieces outside the
/// hole (`ArgumentCube.subtracting`). The pieces and the dropped parts together are exactly
/// the cube, so the search finds a vector iff the difference is non-empty.
struct ArgumentRegionSearch {
    /// The search steps left (cubes queued); the search throws `Exhausted` past it.
    var budget: Int

    struct Exhausted: Error {}

    init(budget: Int) { self.budget = budget }

    /// The simplest vector in `region` outside every hole, or nil when the holes cover it.
    mutating func simplestPoint(in region: ArgumentCube, outside holes: [ArgumentCube]) throws(Exhausted) -> [UInt64]? {
        var relevant: [ArgumentCube] = []
        for hole in holes where hole.meets(region) {
            if region.isWithin(hole) { return nil }
            relevant.append(hole)
        }
        var queue = MinHeap()
        queue.push(.init(cube: region, nextHole: 0))
        search: while let node = queue.pop() {
            // The first hole meeting the cube splits it, unless some hole holds it whole
            // (then it is dropped: splitting it would only re-cover it piece by piece).
            var first: Int?
            for index in node.nextHole..<relevant.count where relevant[index].meets(node.cube) {
                if node.cube.isWithin(relevant[index]) { continue search }
                if first == nil { first = index }
            }
            guard let index = first else { return node.cube.smallest }
            let hole = relevant[index]
            for piece in node.cube.subtracting(hole) {
                budget -= 1
                if budget < 0 { throw Exhausted() }
                queue.push(.init(cube: piece, nextHole: index + 1))
            }
        }
        return nil
    }

    struct Node {
        var cube: ArgumentCube
        /// Holes before this index are known not to meet the cube.
        var nextHole: Int
    }

    /// A binary heap of nodes, simplest smallest vector first.
    struct MinHeap {
        var items: [Node] = []

        static func before(_ a: Node, _ b: Node) -> Bool { simplerArguments(a.cube.smallest, b.cube.smallest) }

        mutating func push(_ node: Node) {
            items.append(node)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.before(items[i], items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Node? {
            guard !items.isEmpty else { return nil }
            items.swapAt(0, items.count - 1)
            let top = items.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count, Self.before(items[l], items[best]) { best = l }
                if r < items.count, Self.before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
            return top
        }
    }
}
