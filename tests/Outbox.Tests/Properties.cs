// Test classes run in parallel (each has its own database and Kafka); a few that restart shared servers opt out.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
