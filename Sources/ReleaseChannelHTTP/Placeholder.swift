enum _PlaceholderReleaseChannelHTTP {}
