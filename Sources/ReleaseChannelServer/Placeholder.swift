enum _PlaceholderReleaseChannelServer {}
