"""youku-tui: upload videos to Youku through its open API and Aliyun OSS."""

__version__ = "0.1.0"
