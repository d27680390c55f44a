extension Int {
    /// Part `index` of this many split as evenly as possible into `parts` (the first ones take the remainder):
    /// connections between servers, workers between store instances.
    func share(_ index: Int, of parts: Int) -> Int {
        self / parts + (index < self % parts ? 1 : 0)
    }
}
