namespace ScanService.Training.Data;

/// <summary>A dataset's training and test sets as published. The test set is for the final report only.</summary>
public sealed record TrainTestSets(ImageDataset Train, ImageDataset Test);
